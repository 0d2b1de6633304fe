"""Exports: the flat judgements table (for analysis, CSV/Parquet) and preference pairs for DPO (without `prompt`:
`pal_core.training.train.to_preference_records` adds it, since db never imports pal_core)."""

from collections import Counter
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from db.errors import StoreError
from db.models import Comparison, Dialogue, Judgement, Response, System, User
from db.projects import get_project_row
from db.queries import is_current
from db.table_csv import judgements_csv
from db.users import ROLE_RANK, audit, require_role

FORMATS = ("csv", "parquet")
_RA, _RB = aliased(Response), aliased(Response)
_SA, _SB = aliased(System), aliased(System)
_FIELDS = (
    "consistency_a",
    "consistency_b",
    "persona_used_a",
    "persona_used_b",
    "contradiction_a",
    "contradiction_b",
    "fluency_a",
    "fluency_b",
    "engagingness_a",
    "engagingness_b",
    "reason",
    "seconds",
    "created_at",
)


def _rows(session: Session, project_id: int, kind: str) -> list:
    """Current rows of `kind` as flat column tuples (ORM objects are ~3x slower at 100k rows), in id order."""
    return session.execute(
        select(
            Judgement.id,
            Judgement.preference,
            *(getattr(Judgement, f) for f in _FIELDS),
            User.name.label("user"),
            Comparison.id.label("item_id"),
            Comparison.project_id,
            Comparison.dialogue_id,
            Comparison.response_a_id,
            Comparison.response_b_id,
            Comparison.is_gold,
            Comparison.gold_answer,
            Dialogue.external_id,
            _SA.name.label("system_a"),
            _SB.name.label("system_b"),
        )
        .join(User, User.id == Judgement.user_id)
        .join(Comparison, Comparison.id == Judgement.comparison_id)
        .join(Dialogue, Dialogue.id == Comparison.dialogue_id)
        .join(_RA, _RA.id == Comparison.response_a_id)
        .join(_SA, _SA.id == _RA.system_id)
        .join(_RB, _RB.id == Comparison.response_b_id)
        .join(_SB, _SB.id == _RB.system_id)
        .where(Comparison.project_id == project_id, Judgement.kind == kind, is_current())
        .order_by(Judgement.id)
    ).all()


def _winner(preference: str, system_a: str, system_b: str) -> str:
    return {"A": system_a, "B": system_b}.get(preference, preference)


# Judgement columns that name the systems behind A/B or the known answer: researchers and admins only.
BLIND_COLUMNS = ("system_a", "system_b", "winner", "is_gold", "gold_answer")


def judgements_frame(session: Session, *, actor: str | None, project_id: int) -> list[dict]:
    """Current (not superseded, not undone) judgements as flat dicts. Researchers, admins and the CLI get every
    annotator's rows; an annotator gets only their own, with the BLIND_COLUMNS set to None; viewers are refused
    (they see aggregates: db.summaries). One dict per row:
    {"judgement_id", "project_id", "item_id", "dialogue_id", "user", "system_a", "system_b", "preference",
    "winner" (system name, "tie" or "both_bad"), "consistency_a", "consistency_b", "persona_used_a",
    "persona_used_b", "contradiction_a", "contradiction_b", "fluency_a", "fluency_b", "engagingness_a",
    "engagingness_b", "reason", "seconds", "created_at", "is_gold", "gold_answer"}."""
    user = require_role(session, actor, "annotator", allow_cli=True)
    get_project_row(session, project_id)
    own_only = user is not None and ROLE_RANK[user.role] < ROLE_RANK["researcher"]
    out = []
    for r in _rows(session, project_id, "judgement"):
        if own_only and r.user != user.name:
            continue
        row = {
            "judgement_id": r.id,
            "project_id": project_id,
            "item_id": r.item_id,
            "dialogue_id": r.external_id,
            "user": r.user,
            "system_a": r.system_a,
            "system_b": r.system_b,
            "preference": r.preference,
            "winner": _winner(r.preference, r.system_a, r.system_b),
        }
        row.update({f: getattr(r, f) for f in _FIELDS})
        row.update(is_gold=r.is_gold, gold_answer=r.gold_answer)
        if own_only:
            row.update(dict.fromkeys(BLIND_COLUMNS))
        out.append(row)
    return out


def _decide(judgements: list[tuple], adjudication: tuple | None) -> tuple[str | None, str]:
    if adjudication is not None:
        return adjudication[0].preference, "adjudicated"
    counts = Counter(j.preference for j, _ in judgements)
    preference, n = counts.most_common(1)[0]
    return (preference, "majority") if n * 2 > len(judgements) else (None, "no-majority")


def _pair(
    item,
    dialogue: Dialogue,
    texts: dict,
    names: tuple[str, str],
    preference: str,
    agreeing: list[tuple],
    n_all: int,
    agreement: float,
    decision: str,
    suffix: str = "",
) -> dict | None:
    a_text, b_text = texts[item.response_a_id].text, texts[item.response_b_id].text
    chosen_side = "b" if preference == "B" else "a"
    chosen, rejected = (b_text, a_text) if chosen_side == "b" else (a_text, b_text)
    if not chosen.strip() or not rejected.strip() or chosen.strip() == rejected.strip():
        return None  # no training signal, and the preference format forbids it
    # Unanswered (NULL) is missing, never "none": the annotators' answers decide (-1 = they said it uses none);
    # only when nobody answered does the system's own selection stand in, and provenance says which it was.
    used = Counter(getattr(j, f"persona_used_{chosen_side}") for j, _ in agreeing)
    used.pop(None, None)
    if used:
        index, sentence_source = used.most_common(1)[0][0], "annotators"
    else:
        index = getattr(texts[getattr(item, f"response_{chosen_side}_id")], "selected_index", None)
        sentence_source = "system" if index is not None else "unknown"
    sentence = dialogue.persona[index] if index is not None and 0 <= index < len(dialogue.persona) else None
    systems = {"chosen": names[chosen_side == "b"], "rejected": names[chosen_side == "a"]}
    provenance = {
        "source": "human",
        "project_id": item.project_id,
        "item_id": item.item_id,
        "dialogue_id": dialogue.external_id,
        "systems": systems,
        "annotator_ids": [user for _, user in agreeing],
        "agreement": agreement,
        "n_judgements": n_all,
        "timestamps": [j.created_at.isoformat() for j, _ in agreeing],
        "decision": decision,
        "persona_sentence_source": sentence_source,
    }
    if preference == "tie":
        provenance["tie"] = True
    return {
        "id": f"human-p{item.project_id}-i{item.item_id}{suffix}",
        "persona": list(dialogue.persona),
        "history": list(dialogue.history),
        "persona_sentence": sentence,
        "chosen": chosen,
        "rejected": rejected,
        "provenance": provenance,
    }


def export_preferences(
    session: Session,
    *,
    actor: str | None,
    project_id: int,
    drop_ties: bool = True,
    min_agreement: float = 0.0,
    majority: bool = True,
) -> list[dict]:
    """Preference pairs without `prompt` (docs/interfaces.md): {"id", "persona", "history", "persona_sentence",
    "chosen", "rejected" (texts), "provenance": {"source": "human", "project_id", "item_id", "dialogue_id",
    "systems": {"chosen", "rejected"}, "annotator_ids", "agreement", "n_judgements", "timestamps", "decision",
    "persona_sentence_source" (annotators | system | unknown)}}.

    majority=True: one pair per item from the adjudication if any, else the strict majority (items without one are
    dropped); majority=False: one pair per judgement. agreement = share of the item's judgements that agree with
    the decision (None for an item with fewer than two judgements; min_agreement > 0 drops those).
    persona_sentence: the annotators' majority answer for the chosen reply (unanswered = missing), else the
    system's own selection. both_bad never makes a pair; ties are kept (A as chosen, provenance "tie": True) only when
    drop_ties=False; pairs whose two texts are equal or empty are left out.
    """
    require_role(session, actor, "researcher", allow_cli=True)
    get_project_row(session, project_id)
    if not isinstance(min_agreement, int | float) or not 0.0 <= min_agreement <= 1.0:
        raise StoreError(f"min_agreement: expected a number from 0 to 1, got {min_agreement!r}")
    by_item: dict[int, list[tuple]] = {}
    items, dialogues, names = {}, {}, {}
    for r in _rows(session, project_id, "judgement"):
        by_item.setdefault(r.item_id, []).append((r, r.user))
        items[r.item_id], names[r.item_id] = r, (r.system_a, r.system_b)
    adjudications = {}
    for r in _rows(session, project_id, "adjudication"):
        adjudications[r.item_id] = (r, r.user)
        items[r.item_id], names[r.item_id] = r, (r.system_a, r.system_b)
    if not items:
        return []
    response_ids = {rid for it in items.values() for rid in (it.response_a_id, it.response_b_id)}
    texts = {r.id: r for r in session.scalars(select(Response).where(Response.id.in_(response_ids)))}
    dialogue_ids = {it.dialogue_id for it in items.values()}
    dialogues = {d.id: d for d in session.scalars(select(Dialogue).where(Dialogue.id.in_(dialogue_ids)))}
    keep = {"A", "B"} if drop_ties else {"A", "B", "tie"}
    out = []
    for item_id in sorted(items):
        item, judgements = items[item_id], by_item.get(item_id, [])
        if majority:
            preference, decision = _decide(judgements, adjudications.get(item_id))
            decisions = [(preference, decision, [(j, u) for j, u in judgements if j.preference == preference], "")]
        else:  # one pair per judgement, credited to its annotator alone
            decisions = [(j.preference, "single", [(j, u)], f"-j{j.id}") for j, u in judgements]
        for preference, decision, credited, suffix in decisions:
            if preference not in keep:
                continue
            n_agree = sum(j.preference == preference for j, _ in judgements)
            # Agreement needs two judges: a single-annotator (or adjudicated-only) item has none (None), so any
            # minimum above 0 leaves it out.
            agreement = n_agree / len(judgements) if len(judgements) >= 2 else None
            if min_agreement > 0 and (agreement is None or agreement < min_agreement):
                continue
            pair = _pair(
                item,
                dialogues[item.dialogue_id],
                texts,
                names[item_id],
                preference,
                credited,
                len(judgements),
                agreement,
                decision,
                suffix,
            )
            if pair is None:
                continue
            if decision == "adjudicated":
                pair["provenance"]["adjudicator"] = adjudications[item_id][1]
            out.append(pair)
    return out


def export_judgements_table(
    session: Session, *, actor: str | None, project_id: int, path: str | Path, fmt: str | None = None
) -> Path:
    """Write judgements_frame() to CSV (cells escaped by csv_cell) or Parquet (fmt from the suffix when None;
    researcher). Returns the path."""
    import pandas as pd  # only exports need it

    require_role(session, actor, "researcher", allow_cli=True)
    path = Path(path)
    fmt = fmt or path.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise StoreError(f"fmt: expected one of {', '.join(FORMATS)} (or a .csv/.parquet path), got {fmt!r}")
    rows = judgements_frame(session, actor=actor, project_id=project_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        path.write_text(judgements_csv(rows), encoding="utf-8")
    else:
        frame = pd.DataFrame(rows, columns=list(rows[0]) if rows else None)
        frame.to_parquet(path, index=False)
    audit(session, actor, "export_judgements", f"project:{project_id}", n=len(rows), to=str(path))
    return path


EXPORT_KINDS = ("preferences", "judgements")


def record_export(
    session: Session, *, actor: str | None, project_id: int, kind: str, n: int, destination: str
) -> None:
    """Audit an export the store did not write itself: a page download (`destination` "download") or `pal export`
    jsonl/hf (the output path). Researcher or the CLI, as for the exports themselves."""
    require_role(session, actor, "researcher", allow_cli=True)
    if kind not in EXPORT_KINDS:
        raise StoreError(f"kind: expected one of {', '.join(EXPORT_KINDS)}, got {kind!r}")
    get_project_row(session, project_id)
    audit(session, actor, f"export_{kind}", f"project:{project_id}", n=n, to=str(destination))

"""Open formats out of (and back into) a comparison project: Label Studio tasks with their labelling config, an
Argilla 2.x dataset folder (settings + records with responses), and a Hugging Face `datasets` folder (save_to_disk
and Parquet) with a dataset card. Researchers and admins export (an audit row each); judgements made in Label
Studio come back through `import_label_studio` (db/ls_import.py). docs/interop.md describes the files.
"""

import json
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from db.annotate import ANSWER_FIELDS, PREFERENCES, RATINGS
from db.errors import StoreError
from db.exports import judgements_frame
from db.hf_card import dataset_card, hf_rows
from db.label_studio import NONE_CHOICE, TITLES, YES_NO, label_config, to_result
from db.ls_import import EMAIL_DOMAIN, import_label_studio
from db.models import Comparison, Dialogue, Response, System
from db.projects import get_project
from db.users import audit, require_role

__all__ = ["FORMATS", "export_project", "import_label_studio", "write_export"]
FORMATS = ("label-studio", "argilla", "hf")
USER_NAMESPACE = uuid.UUID("6f1c2a52-7d0e-4d55-9a63-0f3e1c9b8a10")  # Argilla user ids: uuid5(this, user name)
_RA, _RB, _SA, _SB = aliased(Response), aliased(Response), aliased(System), aliased(System)
ITEM_COLUMNS = ("item_id", "dialogue_id", "position", "persona", "history", "system_a", "reply_a", "system_b")
ITEM_COLUMNS += ("reply_b", "is_gold", "gold_answer")


def _items(session: Session, project_id: int) -> list[dict]:
    """Every item of the project in serving order: {ITEM_COLUMNS}."""
    rows = session.execute(
        select(Comparison, Dialogue, _RA.text, _SA.name, _RB.text, _SB.name)
        .join(Dialogue, Dialogue.id == Comparison.dialogue_id)
        .join(_RA, _RA.id == Comparison.response_a_id)
        .join(_SA, _SA.id == _RA.system_id)
        .join(_RB, _RB.id == Comparison.response_b_id)
        .join(_SB, _SB.id == _RB.system_id)
        .where(Comparison.project_id == project_id)
        .order_by(Comparison.position)
    )
    return [
        {
            "item_id": item.id,
            "dialogue_id": dialogue.external_id,
            "position": item.position,
            "persona": list(dialogue.persona),
            "history": list(dialogue.history),
            "system_a": system_a,
            "reply_a": reply_a,
            "system_b": system_b,
            "reply_b": reply_b,
            "is_gold": item.is_gold,
            "gold_answer": item.gold_answer,
        }
        for item, dialogue, reply_a, system_a, reply_b, system_b in rows
    ]


def _persona_text(persona: list[str]) -> str:
    return "\n".join(f"{i}. {sentence}" for i, sentence in enumerate(persona, start=1))


def _history_text(history: list[str]) -> str:
    return "\n".join(f"{'Partner' if (len(history) - i) % 2 else 'Bot'}: {turn}" for i, turn in enumerate(history))


def _label_studio(project: dict, items: list[dict], by_item: dict) -> dict[str, str]:
    max_persona = max((len(it["persona"]) for it in items), default=1)
    tasks = []
    for it in items:
        annotations = [
            {
                "id": j["judgement_id"],
                "completed_by": {"email": f"{j['user']}@{EMAIL_DOMAIN}", "first_name": j["user"]},
                "result": to_result(j, project["questions"]),
                "was_cancelled": False,
                "ground_truth": False,
                "created_at": j["created_at"].isoformat(),
                "updated_at": j["created_at"].isoformat(),
                "lead_time": j["seconds"],
            }
            for j in by_item.get(it["item_id"], [])
        ]
        data = {k: it[k] for k in ("item_id", "dialogue_id", "reply_a", "reply_b")}
        data.update(project_id=project["id"], persona=_persona_text(it["persona"]))
        data["history"] = _history_text(it["history"])
        meta = {k: it[k] for k in ("system_a", "system_b", "is_gold", "gold_answer")}  # not shown to annotators
        tasks.append({"id": it["item_id"], "data": data, "meta": meta, "annotations": annotations, "predictions": []})
    config = label_config(project["questions"], max_persona)
    settings = {"title": project["name"], "label_config": config, "expert_instruction": project["guidelines"]}
    return {
        "tasks.json": json.dumps(tasks, ensure_ascii=False, indent=1),
        "config.xml": config,
        "project.json": json.dumps(settings, ensure_ascii=False, indent=1),
    }


def _question(name: str, title: str, kind: str, required: bool, options: list) -> dict:
    settings: dict = {"type": kind}
    if kind == "label_selection":
        visible = len(options) if len(options) >= 3 else None  # Argilla refuses fewer than 3
        settings.update(options=[{"value": v, "text": v} for v in options], visible_options=visible)
    elif kind == "rating":
        settings["options"] = [{"value": v} for v in options]
    else:
        settings["use_markdown"] = False
    return {"name": name, "title": title, "description": None, "required": required, "settings": settings}


def _argilla_settings(project: dict, max_persona: int) -> dict:
    fields = [
        {
            "name": n,
            "title": t,
            "required": True,
            "description": None,
            "settings": {"type": "text", "use_markdown": False},
        }
        for n, t in (
            ("persona", "Persona"),
            ("history", "Dialogue so far"),
            ("reply_a", "Reply A"),
            ("reply_b", "Reply B"),
        )
    ]
    questions = [_question("preference", "Which reply is better?", "label_selection", True, list(PREFERENCES))]
    for side in ("a", "b"):
        for q in project["questions"]:
            kind, options = (
                ("rating", [1, 2, 3, 4, 5])
                if q in RATINGS
                else ("label_selection", [NONE_CHOICE, *map(str, range(1, max_persona + 1))])
                if q == "persona_used"
                else ("label_selection", list(YES_NO))
            )
            title = f"Reply {side.upper()}: {TITLES[q]}"
            questions.append(_question(f"{q}_{side}", title, kind, q in project["required_questions"], options))
    questions.append(_question("reason", "Reason (optional)", "text", False, []))
    terms = [("dialogue_id", True), ("system_a", False), ("system_b", False)]  # annotators never see the systems
    metadata = [
        {"name": n, "title": n, "visible_for_annotators": v, "settings": {"type": "terms", "values": None}}
        for n, v in terms
    ]
    metadata.append(
        {"name": "item_id", "title": "item_id", "visible_for_annotators": True, "settings": {"type": "integer"}}
    )
    return {
        "guidelines": project["guidelines"] or None,
        "questions": questions,
        "fields": fields,
        "vectors": [],
        "metadata": metadata,
        "allow_extra_metadata": False,
        "distribution": {"strategy": "overlap", "min_submitted": project["annotators_per_item"]},
        "mapping": None,
    }


def _argilla_value(question: str, value):
    if value is None:  # unanswered stays unanswered
        return None
    if question == "persona_used":
        return NONE_CHOICE if value == -1 else str(value + 1)
    if question == "contradiction":
        return "yes" if value else "no"
    return value


def _argilla(project: dict, items: list[dict], by_item: dict) -> dict[str, str]:
    max_persona = max((len(it["persona"]) for it in items), default=1)
    records, users = [], {}
    for it in items:
        responses: dict[str, list] = {}
        for j in by_item.get(it["item_id"], []):
            user_id = str(uuid.uuid5(USER_NAMESPACE, j["user"]))
            users[user_id] = j["user"]
            answers = {"preference": j["preference"], "reason": j["reason"] or None}
            answers.update({f: _argilla_value(q, j[f]) for q in project["questions"] for f in ANSWER_FIELDS[q]})
            for name, value in answers.items():
                if value is not None:  # unanswered: no response at all, never a default
                    responses.setdefault(name, []).append({"value": value, "user_id": user_id, "status": "submitted"})
        fields = {"persona": _persona_text(it["persona"]), "history": _history_text(it["history"])}
        fields.update(reply_a=it["reply_a"], reply_b=it["reply_b"])
        metadata = {k: it[k] for k in ("item_id", "dialogue_id", "system_a", "system_b")}
        status = "completed" if responses else "pending"
        records.append(
            {
                "id": f"item-{it['item_id']}",
                "fields": fields,
                "metadata": metadata,
                "suggestions": {},
                "responses": responses,
                "vectors": {},
                "status": status,
                "_server_id": None,
            }
        )
    dataset = {"id": None, "name": project["name"], "status": "ready", "guidelines": project["guidelines"] or None}
    dataset.update(allow_extra_metadata=False, distribution=None, workspace_id=None)
    return {
        ".argilla/settings.json": json.dumps(_argilla_settings(project, max_persona), ensure_ascii=False),
        ".argilla/dataset.json": json.dumps(dataset, ensure_ascii=False),
        "records.json": json.dumps(records, ensure_ascii=False),
        "users.json": json.dumps(users, ensure_ascii=False, indent=1),
    }


def export_project(
    session: Session,
    *,
    actor: str | None,
    project_id: int,
    fmt: str,
    agreement: Callable[[list[dict], list[str]], list[dict]] | None = None,
    preferences: list[dict] | None = None,
) -> dict[str, str | list]:
    """A project's items and current judgements in an open format (researcher): relative file name -> text, or
    for "hf" {"items": rows, "judgements": rows, "README.md": dataset card} plus "preferences" (the DPO records
    the caller built, pal_core.training.records) when given. `agreement(judgement rows, questions)` gives the
    card's agreement table ([{"question", "krippendorff_alpha", "n_units"}]); db never computes it."""
    require_role(session, actor, "researcher", allow_cli=True)
    if fmt not in FORMATS:
        raise StoreError(f"fmt: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    project = get_project(session, actor=None, project_id=project_id)
    items, judgements = _items(session, project_id), judgements_frame(session, actor=actor, project_id=project_id)
    by_item: dict[int, list[dict]] = {}
    for j in judgements:
        by_item.setdefault(j["item_id"], []).append(j)
    if fmt == "label-studio":
        out = _label_studio(project, items, by_item)
    elif fmt == "argilla":
        out = _argilla(project, items, by_item)
    else:
        table = agreement(judgements, project["questions"]) if agreement and judgements else []
        out = {"items": items, "judgements": hf_rows(items, judgements)}
        if preferences is not None:
            out["preferences"] = preferences
        out["README.md"] = dataset_card(project, items, judgements, table, n_preferences=len(preferences or []))
    audit(session, actor, "export_interop", f"project:{project_id}", format=fmt, n_judgements=len(judgements))
    return out


def write_export(files: dict[str, str | list], out: str | Path) -> list[Path]:
    """Write export_project()'s result under the folder `out`: text files as they are, "items" / "judgements"
    rows as a `datasets` save_to_disk folder and a Parquet file each. Returns the paths written."""
    out = Path(out)
    written = []
    for name, content in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
            written.append(path)
            continue
        import datasets  # only the hf export needs it
        import pandas as pd

        # from_list infers nested types over every row (provenance keys missing in some rows become null)
        dataset = datasets.Dataset.from_list(content) if content else datasets.Dataset.from_pandas(pd.DataFrame())
        dataset.save_to_disk(str(path))
        dataset.to_parquet(str(out / f"{name}.parquet"))
        written += [path, out / f"{name}.parquet"]
    return written

"""Judging: append-only judgements with validation, undo, adjudication and the disagreement queue."""

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.assignments import get_item_row, hold_for_judgement, item_view
from db.errors import NotFoundError, PermissionDeniedError, StoreError
from db.models import Assignment, Comparison, Dialogue, Judgement, Project, User, utc_now
from db.projects import get_project_row
from db.queries import current, current_for_item
from db.users import audit, require_role
from formats.vocab import PREFERENCES, QUESTIONS, RATINGS

# Per-reply question -> its columns for the replies A and B.
ANSWER_FIELDS = {q: (f"{q}_a", f"{q}_b") for q in QUESTIONS}


def _check_rating(name: str, value: int | None) -> None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5):
        raise StoreError(f"{name}: expected an int from 1 to 5 or None (unanswered), got {value!r}")


def _check_preference(preference: str) -> None:
    if preference not in PREFERENCES:
        raise StoreError(f"preference: expected one of {', '.join(PREFERENCES)}, got {preference!r}")


def sides_swapped(item_id: int, actor: str) -> bool:
    """Whether `actor` sees the item's response B on the left: fixed per (item, annotator), different between
    annotators (a hash, so it survives reloads and needs no stored state); recorded with each judgement."""
    return hashlib.sha256(f"{item_id}:{actor}".encode()).digest()[0] % 2 == 1


def swap_sides(answers: dict, swapped: bool) -> dict:
    """`answers` with every *_a / *_b key exchanged (and preference A <-> B) when `swapped`: maps the sides as
    shown to the item's sides and back."""
    if not swapped:
        return dict(answers)
    out = {}
    for key, value in answers.items():
        if key.endswith(("_a", "_b")):
            key = key[:-1] + ("b" if key.endswith("_a") else "a")
        elif key == "preference":
            value = {"A": "B", "B": "A"}.get(value, value)
        out[key] = value
    return out


def _check_answers(answers: dict, persona: list, asked: list, required: list) -> None:
    """Values in range, no answer to a question the project does not ask, every required one answered."""
    for question, fields in ANSWER_FIELDS.items():
        for name in fields:
            value = answers[name]
            if value is None:
                continue
            if question not in asked:
                raise StoreError(f"{name}: expected no answer (the project does not ask {question!r}), got {value!r}")
            if question in RATINGS:
                _check_rating(name, value)
            elif question == "contradiction" and not isinstance(value, bool):
                raise StoreError(f"{name}: expected true, false or None (unanswered), got {value!r}")
            elif question == "persona_used" and (
                not isinstance(value, int) or isinstance(value, bool) or not -1 <= value < len(persona)
            ):
                raise StoreError(
                    f"{name}: expected -1 (none), a persona index 0..{len(persona) - 1} or None (unanswered), "
                    f"got {value!r}"
                )
    missing = [name for q in required for name in ANSWER_FIELDS[q] if answers[name] is None]
    if missing:
        raise StoreError(f"answers: expected the required {', '.join(missing)}, got them unanswered")


def record_judgement(
    session: Session,
    *,
    actor: str,
    item_id: int,
    preference: str,
    consistency_a: int | None = None,
    consistency_b: int | None = None,
    persona_used_a: int | None = None,
    persona_used_b: int | None = None,
    contradiction_a: bool | None = None,
    contradiction_b: bool | None = None,
    fluency_a: int | None = None,
    fluency_b: int | None = None,
    engagingness_a: int | None = None,
    engagingness_b: int | None = None,
    reason: str = "",
    seconds: float = 0.0,
) -> dict:
    """Append a judgement (annotator) on an item assigned to `actor` (by next_item or assign); a second one on the
    same item supersedes the first. Answers are given for the item's sides A/B (swap_sides maps what was shown).

    None means unanswered and is stored as NULL; only questions the project asks may be answered, and the ones it
    requires must be. Ratings are 1-5, persona_used a 0-based persona index or -1 (the reply uses none),
    contradiction true/false. The order the annotator saw (sides_swapped) is stored with the row. Returns {"id",
    "item_id", "preference", "created_at", "supersedes_id"}."""
    user = require_role(session, actor, "annotator")
    _check_preference(preference)
    answers = {
        "consistency_a": consistency_a,
        "consistency_b": consistency_b,
        "persona_used_a": persona_used_a,
        "persona_used_b": persona_used_b,
        "contradiction_a": contradiction_a,
        "contradiction_b": contradiction_b,
        "fluency_a": fluency_a,
        "fluency_b": fluency_b,
        "engagingness_a": engagingness_a,
        "engagingness_b": engagingness_b,
    }
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or not 0 <= seconds < 86_400:
        raise StoreError(f"seconds: expected a number from 0 to 86400, got {seconds!r}")
    if not isinstance(reason, str) or len(reason) > 5000:
        raise StoreError(f"reason: expected text of at most 5000 characters, got {len(str(reason))} characters")
    # One query for the item, its persona, the project's questions and the user's assignment: this is the hot path
    # under many annotators.
    found = session.execute(
        select(Comparison.id, Dialogue.persona, Project.questions, Project.required_questions, Assignment)
        .join(Dialogue, Dialogue.id == Comparison.dialogue_id)
        .join(Project, Project.id == Comparison.project_id)
        .outerjoin(Assignment, (Assignment.comparison_id == Comparison.id) & (Assignment.user_id == user.id))
        .where(Comparison.id == item_id)
    ).one_or_none()
    if found is None:
        raise NotFoundError(f"item_id: expected an existing comparison item, got {item_id!r}")
    _, persona, asked, required, assignment = found
    _check_answers(answers, persona, asked, required)
    if assignment is None:
        raise PermissionDeniedError(
            f"item_id: expected an item assigned to {actor!r}, got item {item_id} "
            "(not assigned; take items with next_item)"
        )
    if assignment.status != "done":  # a first judgement takes a judge slot: never more than the project asks for
        hold_for_judgement(session, user_id=user.id, item_id=item_id)
    # Only a judged ("done") assignment can have a current judgement to supersede.
    previous = current_for_item(session, "judgement", item_id, user.id) if assignment.status == "done" else []
    row = Judgement(
        user_id=user.id,
        comparison_id=item_id,
        kind="judgement",
        preference=preference,
        supersedes_id=previous[-1].id if previous else None,
        sides_swapped=sides_swapped(item_id, actor),
        reason=reason,
        seconds=float(seconds),
        **answers,
    )
    session.add(row)
    assignment.status, assignment.updated_at = "done", utc_now()
    session.flush()
    audit(session, actor, "judge", f"item:{item_id}", judgement_id=row.id, supersedes_id=row.supersedes_id)
    return {
        "id": row.id,
        "item_id": item_id,
        "preference": preference,
        "created_at": row.created_at,
        "supersedes_id": row.supersedes_id,
    }


def _own_view(row: Judgement, dialogue_id: str) -> dict:
    out = {
        "judgement_id": row.id,
        "item_id": row.comparison_id,
        "dialogue_id": dialogue_id,
        "preference": row.preference,
        "reason": row.reason,
        "created_at": row.created_at,
    }
    out.update({name: getattr(row, name) for fields in ANSWER_FIELDS.values() for name in fields})
    return out


def get_own_judgement(session: Session, *, actor: str, judgement_id: int) -> dict:
    """One of `actor`'s own judgement rows (annotator; current, superseded or undone), e.g. to reopen it with its
    answers: {"judgement_id", "item_id", "dialogue_id", "preference", "reason", "created_at", the answer fields}.
    Another user's row raises PermissionDeniedError; system names are never included."""
    user = require_role(session, actor, "annotator")
    found = session.execute(
        select(Judgement, Dialogue.external_id)
        .join(Comparison, Comparison.id == Judgement.comparison_id)
        .join(Dialogue, Dialogue.id == Comparison.dialogue_id)
        .where(Judgement.id == judgement_id, Judgement.kind == "judgement")
    ).one_or_none()
    if found is None:
        raise NotFoundError(f"judgement_id: expected an existing judgement, got {judgement_id!r}")
    if found[0].user_id != user.id:
        raise PermissionDeniedError(f"judgement_id: expected one of {actor!r}'s own judgements, got {judgement_id}")
    return _own_view(*found)


def list_my_judgements(session: Session, *, actor: str, project_id: int) -> list[dict]:
    """`actor`'s own current judgements in a project (annotator), newest first, as get_own_judgement returns them."""
    user = require_role(session, actor, "annotator")
    get_project_row(session, project_id)
    rows = session.execute(
        current("judgement", project_id)
        .add_columns(Dialogue.external_id)
        .join(Dialogue, Dialogue.id == Comparison.dialogue_id)
        .where(Judgement.user_id == user.id)
        .order_by(None)
        .order_by(Judgement.id.desc())
    ).all()
    return [_own_view(row, dialogue_id) for row, dialogue_id in rows]


def undo_last(session: Session, *, actor: str, project_id: int) -> dict | None:
    """Withdraw `actor`'s latest current judgement in the project by appending an 'undo' row that supersedes it;
    the item is theirs again. Returns {"undo_id", "item_id", "judgement_id"} or None when nothing is left to undo."""
    user = require_role(session, actor, "annotator")
    get_project_row(session, project_id)
    last = session.scalars(
        current("judgement", project_id)
        .where(Judgement.user_id == user.id)
        .order_by(None)
        .order_by(Judgement.id.desc())
        .limit(1)
    ).first()
    if last is None:
        return None
    undo = Judgement(user_id=user.id, comparison_id=last.comparison_id, kind="undo", supersedes_id=last.id)
    session.add(undo)
    assignment = session.scalars(
        select(Assignment).where(Assignment.user_id == user.id, Assignment.comparison_id == last.comparison_id)
    ).one()
    assignment.status, assignment.updated_at = "assigned", utc_now()
    session.flush()
    audit(session, actor, "undo", f"item:{last.comparison_id}", judgement_id=last.id, undo_id=undo.id)
    return {"undo_id": undo.id, "item_id": last.comparison_id, "judgement_id": last.id}


def list_disagreements(session: Session, *, actor: str, project_id: int) -> list[dict]:
    """Items whose current judgements differ and that are not adjudicated (researcher): [{"item_id", "dialogue_id",
    "persona", "history", "response_a", "response_b", "system_a", "system_b", "judgements": [{"user",
    "preference", "reason"}]}]."""
    require_role(session, actor, "researcher")
    get_project_row(session, project_id)
    adjudicated = set(session.scalars(current("adjudication", project_id).with_only_columns(Judgement.comparison_id)))
    by_item: dict[int, list[tuple[str, Judgement]]] = {}
    for row, name in session.execute(
        current("judgement", project_id).add_columns(User.name).join(User, User.id == Judgement.user_id)
    ):
        by_item.setdefault(row.comparison_id, []).append((name, row))
    out = []
    for item_id, rows in sorted(by_item.items()):
        if item_id in adjudicated or len({r.preference for _, r in rows}) < 2:
            continue
        item = get_item_row(session, item_id)
        view = item_view(item)
        view.update(
            system_a=item.response_a.system.name,
            system_b=item.response_b.system.name,
            judgements=[{"user": n, "preference": r.preference, "reason": r.reason} for n, r in rows],
        )
        out.append(view)
    return out


def adjudicate(session: Session, *, actor: str, item_id: int, preference: str, reason: str = "") -> dict:
    """Resolve an item (admin) by appending an 'adjudication' row (superseding an earlier adjudication).
    Returns {"id", "item_id", "preference", "created_at", "supersedes_id"}."""
    user = require_role(session, actor, "admin")
    item = get_item_row(session, item_id)
    _check_preference(preference)
    previous = current_for_item(session, "adjudication", item.id)
    row = Judgement(
        user_id=user.id,
        comparison_id=item.id,
        kind="adjudication",
        preference=preference,
        reason=reason,
        supersedes_id=previous[-1].id if previous else None,
    )
    session.add(row)
    session.flush()
    audit(session, actor, "adjudicate", f"item:{item.id}", preference=preference, judgement_id=row.id)
    return {
        "id": row.id,
        "item_id": item.id,
        "preference": preference,
        "created_at": row.created_at,
        "supersedes_id": row.supersedes_id,
    }

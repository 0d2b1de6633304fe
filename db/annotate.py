"""Judging: append-only judgements with validation, undo, adjudication and the disagreement queue."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.assignments import get_item_row, item_view
from db.errors import NotFoundError, PermissionDeniedError, StoreError
from db.models import Assignment, Comparison, Dialogue, Judgement, User, utc_now
from db.projects import get_project_row
from db.queries import current, current_for_item
from db.users import audit, require_role

PREFERENCES = ("A", "B", "tie", "both_bad")


def _check_rating(name: str, value: int | None, *, required: bool) -> None:
    if value is None and not required:
        return
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
        raise StoreError(f"{name}: expected an int from 1 to 5, got {value!r}")


def _check_preference(preference: str) -> None:
    if preference not in PREFERENCES:
        raise StoreError(f"preference: expected one of {', '.join(PREFERENCES)}, got {preference!r}")


def record_judgement(
    session: Session,
    *,
    actor: str,
    item_id: int,
    preference: str,
    consistency_a: int,
    consistency_b: int,
    persona_used_a: int = -1,
    persona_used_b: int = -1,
    contradiction_a: bool = False,
    contradiction_b: bool = False,
    fluency_a: int | None = None,
    fluency_b: int | None = None,
    engagingness_a: int | None = None,
    engagingness_b: int | None = None,
    reason: str = "",
    seconds: float = 0.0,
) -> dict:
    """Append a judgement (annotator) on an item assigned to `actor` (by next_item or assign); a second one on the
    same item supersedes the first. Ratings are 1-5, persona_used is a 0-based persona index or -1. Returns {"id",
    "item_id", "preference", "created_at", "supersedes_id"}."""
    user = require_role(session, actor, "annotator")
    _check_preference(preference)
    for name, value, required in (
        ("consistency_a", consistency_a, True),
        ("consistency_b", consistency_b, True),
        ("fluency_a", fluency_a, False),
        ("fluency_b", fluency_b, False),
        ("engagingness_a", engagingness_a, False),
        ("engagingness_b", engagingness_b, False),
    ):
        _check_rating(name, value, required=required)
    for name, value in (("contradiction_a", contradiction_a), ("contradiction_b", contradiction_b)):
        if not isinstance(value, bool):
            raise StoreError(f"{name}: expected true or false, got {value!r}")
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or not 0 <= seconds < 86_400:
        raise StoreError(f"seconds: expected a number from 0 to 86400, got {seconds!r}")
    if not isinstance(reason, str) or len(reason) > 5000:
        raise StoreError(f"reason: expected text of at most 5000 characters, got {len(str(reason))} characters")
    # One query for the item, its persona and the user's assignment: this is the hot path under many annotators.
    found = session.execute(
        select(Comparison.id, Dialogue.persona, Assignment)
        .join(Dialogue, Dialogue.id == Comparison.dialogue_id)
        .outerjoin(Assignment, (Assignment.comparison_id == Comparison.id) & (Assignment.user_id == user.id))
        .where(Comparison.id == item_id)
    ).one_or_none()
    if found is None:
        raise NotFoundError(f"item_id: expected an existing comparison item, got {item_id!r}")
    _, persona, assignment = found
    for name, value in (("persona_used_a", persona_used_a), ("persona_used_b", persona_used_b)):
        if not isinstance(value, int) or isinstance(value, bool) or not -1 <= value < len(persona):
            raise StoreError(f"{name}: expected -1 (none) or a persona index 0..{len(persona) - 1}, got {value!r}")
    if assignment is None:
        raise PermissionDeniedError(
            f"item_id: expected an item assigned to {actor!r}, got item {item_id} "
            "(not assigned; take items with next_item)"
        )
    # Only a judged ("done") assignment can have a current judgement to supersede.
    previous = current_for_item(session, "judgement", item_id, user.id) if assignment.status == "done" else []
    row = Judgement(
        user_id=user.id,
        comparison_id=item_id,
        kind="judgement",
        preference=preference,
        supersedes_id=previous[-1].id if previous else None,
        consistency_a=consistency_a,
        consistency_b=consistency_b,
        persona_used_a=persona_used_a,
        persona_used_b=persona_used_b,
        contradiction_a=contradiction_a,
        contradiction_b=contradiction_b,
        fluency_a=fluency_a,
        fluency_b=fluency_b,
        engagingness_a=engagingness_a,
        engagingness_b=engagingness_b,
        reason=reason,
        seconds=float(seconds),
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
    """Items whose current judgements differ and that are not adjudicated (any role): [{"item_id", "dialogue_id",
    "persona", "history", "response_a", "response_b", "system_a", "system_b", "judgements": [{"user",
    "preference", "reason"}]}]."""
    require_role(session, actor, "viewer")
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

"""The annotation queue: which item a user sees next, pre-assignment, skipping and progress."""

import statistics

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.errors import NotFoundError, PermissionDeniedError, StoreError
from db.models import Assignment, Comparison, Judgement, Project, User, utc_now
from db.projects import get_project_row
from db.queries import current, judges_per_item
from db.users import audit, get_user, require_role


def get_item_row(session: Session, item_id: int) -> Comparison:
    item = session.get(Comparison, item_id)
    if item is None:
        raise NotFoundError(f"item_id: expected an existing comparison item, got {item_id!r}")
    return item


def _assignments(session: Session, project_id: int, user_id: int | None = None) -> list[Assignment]:
    stmt = select(Assignment).join(Comparison).where(Comparison.project_id == project_id)
    if user_id is not None:
        stmt = stmt.where(Assignment.user_id == user_id)
    return list(session.scalars(stmt))


def _open_items(session: Session, project_id: int, user_id: int, k: int, judges: dict[int, set[int]]) -> list[int]:
    """Items the user may take, best first: own open assignments, free items, then own skipped ones."""
    mine, held = {}, {}
    for a in _assignments(session, project_id):
        if a.user_id == user_id:
            mine[a.comparison_id] = a.status
        elif a.status == "assigned" and user_id not in judges.get(a.comparison_id, ()):
            held[a.comparison_id] = held.get(a.comparison_id, 0) + 1  # reserved by someone still working on it
    order = session.execute(
        select(Comparison.id).where(Comparison.project_id == project_id).order_by(Comparison.position)
    ).scalars()
    own, free, loose, skipped = [], [], [], []
    for cid in order:
        n = len(judges.get(cid, ()))
        if user_id in judges.get(cid, ()):
            continue
        if mine.get(cid) == "assigned":
            own.append(cid)
        elif mine.get(cid) == "skipped":
            if n < k:
                skipped.append(cid)
        elif n + held.get(cid, 0) < k:
            free.append(cid)
        elif n < k:
            loose.append(cid)  # only reserved by others: offered when nothing else is left
    return own + free + loose + skipped


def _progress(session: Session, project_id: int, user_id: int, k: int, judges: dict[int, set[int]]) -> dict:
    done = sum(user_id in users for users in judges.values())
    ids = session.scalars(select(Comparison.id).where(Comparison.project_id == project_id)).all()
    n_items = len(ids)
    left = sum(1 for cid in ids if user_id not in judges.get(cid, ()) and len(judges.get(cid, ())) < k)
    return {"done": done, "total": done + left, "n_items": n_items}


def item_view(item: Comparison) -> dict:
    dialogue, a, b = item.dialogue, item.response_a, item.response_b
    return {
        "item_id": item.id,
        "project_id": item.project_id,
        "dialogue_id": dialogue.external_id,
        "persona": dialogue.persona,
        "partner_persona": dialogue.partner_persona,
        "history": dialogue.history,
        "response_a": a.text,
        "response_b": b.text,
        "contradiction_a": a.contradiction,
        "contradiction_b": b.contradiction,
        "selected_index_a": a.selected_index,
        "selected_index_b": b.selected_index,
    }


def assign(session: Session, *, actor: str, project_id: int, user: str, n: int) -> int:
    """Pre-assign up to n open items to `user` (admin); returns how many were newly assigned."""
    require_role(session, actor, "admin")
    project = get_project_row(session, project_id)
    target = get_user(session, user)
    if target.role == "viewer":
        raise StoreError(f"user: expected an annotator or admin, got viewer {user!r}")
    if not isinstance(n, int) or n < 1:
        raise StoreError(f"n: expected an int >= 1, got {n!r}")
    held = {a.comparison_id for a in _assignments(session, project_id, target.id)}
    judges = judges_per_item(session, project_id)
    open_items = _open_items(session, project_id, target.id, project.annotators_per_item, judges)
    new = [cid for cid in open_items if cid not in held][:n]
    session.add_all(Assignment(user_id=target.id, comparison_id=cid) for cid in new)
    audit(session, actor, "assign", f"project:{project_id}", user=user, n=len(new))
    return len(new)


def _annotation_view(session: Session, item: Comparison, project: Project, user_id: int, judges) -> dict:
    view = item_view(item)
    view["guidelines"] = project.guidelines
    view["progress"] = _progress(session, project.id, user_id, project.annotators_per_item, judges)
    return view


def next_item(session: Session, *, actor: str, project_id: int) -> dict | None:
    """The next item for `actor` (annotator), assigned to them on the way; None when nothing is left.

    Never an item they judged; only items with fewer than annotators_per_item judges (their own open assignments
    first, skipped ones last). Returns {"item_id", "project_id", "dialogue_id", "persona", "partner_persona",
    "history", "response_a", "response_b", "contradiction_a", "contradiction_b" (per-persona-sentence scores or
    None), "selected_index_a", "selected_index_b" (the systems' own selection or None), "guidelines",
    "progress": {"done", "total", "n_items"}}. System names are never included. Two annotators asking at the same
    moment may both get an item's last slot (it then gets one judge too many); no judgement is ever refused or lost.
    """
    user = require_role(session, actor, "annotator")
    project = get_project_row(session, project_id)
    judges = judges_per_item(session, project_id)
    candidates = _open_items(session, project_id, user.id, project.annotators_per_item, judges)
    if not candidates:
        return None
    item = get_item_row(session, candidates[0])
    assignment = session.scalars(
        select(Assignment).where(Assignment.user_id == user.id, Assignment.comparison_id == item.id)
    ).one_or_none()
    if assignment is None:
        session.add(Assignment(user_id=user.id, comparison_id=item.id))
    elif assignment.status != "assigned":
        assignment.status, assignment.updated_at = "assigned", utc_now()
    session.flush()
    return _annotation_view(session, item, project, user.id, judges)


def get_item(session: Session, *, actor: str, item_id: int) -> dict:
    """One item assigned to `actor` (annotator; any status), as next_item returns it: e.g. the item an undo gave
    back. Raises NotFoundError for an unknown item, PermissionDeniedError for one never assigned to `actor`."""
    user = require_role(session, actor, "annotator")
    item = get_item_row(session, item_id)
    assigned = session.scalars(
        select(Assignment.id).where(Assignment.user_id == user.id, Assignment.comparison_id == item.id)
    ).first()
    if assigned is None:
        raise PermissionDeniedError(f"item_id: expected an item assigned to {actor!r}, got item {item_id}")
    project = get_project_row(session, item.project_id)
    return _annotation_view(session, item, project, user.id, judges_per_item(session, item.project_id))


def skip(session: Session, *, actor: str, item_id: int) -> None:
    """Mark the item skipped for `actor` (annotator); next_item offers it again only after everything else."""
    user = require_role(session, actor, "annotator")
    item = get_item_row(session, item_id)
    assignment = session.scalars(
        select(Assignment).where(Assignment.user_id == user.id, Assignment.comparison_id == item.id)
    ).one_or_none()
    if assignment is None or assignment.status == "done":
        raise PermissionDeniedError(f"item_id: expected an open item assigned to {actor!r}, got item {item_id}")
    assignment.status, assignment.updated_at = "skipped", utc_now()
    audit(session, actor, "skip", f"item:{item.id}")


def project_progress(session: Session, *, actor: str, project_id: int) -> dict:
    """{"n_items", "required" (items x annotators_per_item), "done" (current judgements), "complete_items",
    "annotators": [{"user", "done", "assigned", "skipped", "median_seconds"}]} (any role)."""
    require_role(session, actor, "viewer")
    project = get_project_row(session, project_id)
    n_items = len(session.scalars(select(Comparison.id).where(Comparison.project_id == project_id)).all())
    stats: dict[str, dict] = {}
    for row, name in session.execute(
        current("judgement", project_id).add_columns(User.name).join(User, User.id == Judgement.user_id)
    ):
        s = stats.setdefault(name, {"user": name, "done": 0, "assigned": 0, "skipped": 0, "seconds": []})
        s["done"] += 1
        s["seconds"].append(row.seconds or 0.0)
    for a, name in session.execute(
        select(Assignment, User.name).join(User).join(Comparison).where(Comparison.project_id == project_id)
    ):
        s = stats.setdefault(name, {"user": name, "done": 0, "assigned": 0, "skipped": 0, "seconds": []})
        if a.status in ("assigned", "skipped"):
            s[a.status] += 1
    annotators = []
    for s in sorted(stats.values(), key=lambda s: s["user"]):
        seconds = s.pop("seconds")
        annotators.append({**s, "median_seconds": statistics.median(seconds) if seconds else None})
    judges = judges_per_item(session, project_id)
    k = project.annotators_per_item
    return {
        "n_items": n_items,
        "required": n_items * k,
        "done": sum(a["done"] for a in annotators),
        "complete_items": sum(len(u) >= k for u in judges.values()),
        "annotators": annotators,
    }

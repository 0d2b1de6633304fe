"""The annotation queue: which item a user sees next, pre-assignment, skipping and progress."""

import statistics
import time
from datetime import timedelta

from sqlalchemy import Integer, and_, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session, aliased

from db.errors import NotFoundError, PermissionDeniedError, StoreError
from db.models import Assignment, Comparison, Judgement, Project, Response, User, UTCDateTime, utc_now
from db.projects import get_project_row
from db.queries import current, judges_per_item
from db.queue_order import QueueItem, rank_items, serve_order
from db.users import audit, get_user, require_role

# An item has `annotators_per_item` judge slots. A slot is held by a judgement ("done") or by a reservation
# ("assigned") younger than this: an annotator who walks away gives the slot back to the others after it.
RESERVATION_TTL = timedelta(hours=1)
CLAIM_PASSES = 5  # tries over the items other transactions were claiming at that moment


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


def _active_others(item_id: int, user_id: int, cutoff):
    """Scalar subquery: judge slots of the item held by users other than `user_id` (judged, or reserved since
    `cutoff`)."""
    holding = or_(Assignment.status == "done", and_(Assignment.status == "assigned", Assignment.updated_at >= cutoff))
    return (
        select(func.count())
        .select_from(Assignment)
        .where(Assignment.comparison_id == item_id, Assignment.user_id != user_id, holding)
        .scalar_subquery()
    )


def _lock(session: Session, item_id: int, *, wait: bool) -> bool:
    """PostgreSQL: lock the item's row (`FOR UPDATE`, `SKIP LOCKED` unless `wait`); False when another
    transaction holds it. SQLite renders no clause (writers are serialised by the database lock): always True."""
    stmt = select(Comparison.id).where(Comparison.id == item_id).with_for_update(skip_locked=not wait)
    return session.scalar(stmt) is not None


def _claim_locked(session: Session, *, user_id: int, item_id: int, k: int) -> bool:
    """The guarded write: reserve a slot for `user_id` (assignment "assigned", now) only while fewer than `k`
    other users hold one. Run it with the item locked: on PostgreSQL it is then a new statement under READ
    COMMITTED that sees every earlier claim; on SQLite a transaction whose snapshot is stale cannot write at all."""
    now = utc_now()
    free = _active_others(item_id, user_id, now - RESERVATION_TTL) < k
    existing = session.scalar(
        select(Assignment.id).where(Assignment.user_id == user_id, Assignment.comparison_id == item_id)
    )
    if existing is None:
        row = select(
            literal(user_id, Integer), literal(item_id, Integer), literal("assigned"), literal(now, UTCDateTime)
        ).where(free)
        stmt = insert(Assignment).from_select(["user_id", "comparison_id", "status", "updated_at"], row)
        return session.execute(stmt.returning(Assignment.id)).first() is not None  # rowcount: -1 on psycopg
    stmt = (
        update(Assignment)
        .where(Assignment.id == existing, free)
        .values(status="assigned", updated_at=now)
        .returning(Assignment.id)
        .execution_options(synchronize_session="fetch")
    )
    return session.execute(stmt).first() is not None


def claim_first(session: Session, *, user_id: int, items: list[int], k: int, n: int = 1) -> list[int]:
    """Claim up to `n` of `items` for `user_id`, in order (the queue pattern: `SELECT ... FOR UPDATE SKIP LOCKED`,
    then the guarded write). Items another transaction is claiming right now are retried a few times after a
    short pause (their locks last one short transaction) instead of waiting, so two claimers never deadlock."""
    claimed, busy = [], list(items)
    for attempt in range(CLAIM_PASSES):
        if attempt:
            time.sleep(0.02 * attempt)
        pending, busy = busy, []
        for cid in pending:
            if len(claimed) == n:
                return claimed
            if not _lock(session, cid, wait=False):
                busy.append(cid)
            elif _claim_locked(session, user_id=user_id, item_id=cid, k=k):
                claimed.append(cid)
        if not busy or len(claimed) == n:
            break
    return claimed


def hold_for_judgement(session: Session, *, user_id: int, item_id: int) -> None:
    """Make sure `user_id` holds a judge slot of the item before a new judgement (waiting for a concurrent claim);
    raises StoreError when the slots went to others (a skipped item gives its slot back, and a reservation lapses
    after RESERVATION_TTL)."""
    k = session.scalar(
        select(Project.annotators_per_item)
        .join(Comparison, Comparison.project_id == Project.id)
        .where(Comparison.id == item_id)
    )
    if k is None:
        raise NotFoundError(f"item_id: expected an existing comparison item, got {item_id!r}")
    if not (_lock(session, item_id, wait=True) and _claim_locked(session, user_id=user_id, item_id=item_id, k=k)):
        minutes = RESERVATION_TTL.total_seconds() / 60
        raise StoreError(
            f"item_id: expected an item with a free judge slot, got item {item_id}, whose {k} slot(s) other "
            f"annotators hold (a skipped item, or one kept open over {minutes:.0f} minutes, gives its slot away); "
            "take the next item"
        )


def queue_items(session: Session, project_id: int) -> list[QueueItem]:
    """The project's items with their stored position and the ids of the systems shown as A and B."""
    response_a, response_b = aliased(Response), aliased(Response)
    rows = session.execute(
        select(Comparison.id, Comparison.position, response_a.system_id, response_b.system_id)
        .join(response_a, response_a.id == Comparison.response_a_id)
        .join(response_b, response_b.id == Comparison.response_b_id)
        .where(Comparison.project_id == project_id)
    )
    return [QueueItem(*row) for row in rows]


def _ranked(session: Session, project: Project, user_id: int) -> list[int]:
    """Every item of the project in the order its queue_order serves them to `user_id` (db/queue_order.py)."""
    preferences = ()
    if project.queue_order == "most_informative":
        preferences = session.execute(
            current("judgement", project.id).with_only_columns(Judgement.comparison_id, Judgement.preference)
        ).all()
    return rank_items(
        queue_items(session, project.id),
        queue_order=project.queue_order,
        project_id=project.id,
        user_id=user_id,
        preferences=preferences,
    )


def _candidates(session: Session, project: Project, user_id: int, judges: dict[int, set[int]]) -> list[int]:
    """Items the user may take, best first, from one snapshot: own reservations, free items, then own skipped or
    lapsed ones, each in the project's queue order. The snapshot only orders the tries; claim_first() decides under
    the lock."""
    cutoff = utc_now() - RESERVATION_TTL
    mine, held = {}, {}
    for a in _assignments(session, project.id):
        if a.user_id == user_id:
            mine[a.comparison_id] = "lapsed" if a.status == "assigned" and a.updated_at < cutoff else a.status
        elif a.status == "done" or (a.status == "assigned" and a.updated_at >= cutoff):
            held[a.comparison_id] = held.get(a.comparison_id, 0) + 1
    ranked = _ranked(session, project, user_id)
    return serve_order(ranked, user_id=user_id, k=project.annotators_per_item, judges=judges, mine=mine, held=held)


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
    """Pre-assign up to n open items to `user` (admin), each claimed like next_item does; returns how many were
    newly assigned."""
    require_role(session, actor, "admin")
    project = get_project_row(session, project_id)
    target = get_user(session, user)
    if target.role == "viewer":
        raise StoreError(f"user: expected an annotator or admin, got viewer {user!r}")
    if not isinstance(n, int) or n < 1:
        raise StoreError(f"n: expected an int >= 1, got {n!r}")
    held = {a.comparison_id for a in _assignments(session, project_id, target.id)}
    k = project.annotators_per_item
    candidates = _candidates(session, project, target.id, judges_per_item(session, project_id))
    new = claim_first(session, user_id=target.id, items=[c for c in candidates if c not in held], k=k, n=n)
    audit(session, actor, "assign", f"project:{project_id}", user=user, n=len(new))
    return len(new)


def _annotation_view(session: Session, item: Comparison, project: Project, user_id: int, judges) -> dict:
    view = item_view(item)
    view["guidelines"] = project.guidelines
    view["progress"] = _progress(session, project.id, user_id, project.annotators_per_item, judges)
    return view


def next_item(session: Session, *, actor: str, project_id: int) -> dict | None:
    """The next item for `actor` (annotator), assigned to them on the way; None when nothing is left.

    Never an item they judged, never one whose annotators_per_item slots others hold (their own open reservation
    first, skipped ones last, each in the project's queue_order: db/queue_order.py); concurrent callers never push an
    item past that limit (see claim_first). Returns
    {"item_id", "project_id", "dialogue_id", "persona", "partner_persona", "history", "response_a", "response_b",
    "contradiction_a", "contradiction_b" (per-persona-sentence scores or None), "selected_index_a",
    "selected_index_b" (the systems' own selection or None), "guidelines", "progress": {"done", "total",
    "n_items"}}. System names are never included.
    """
    user = require_role(session, actor, "annotator")
    project = get_project_row(session, project_id)
    judges = judges_per_item(session, project_id)
    k = project.annotators_per_item
    claimed = claim_first(session, user_id=user.id, items=_candidates(session, project, user.id, judges), k=k)
    if not claimed:
        return None
    return _annotation_view(session, get_item_row(session, claimed[0]), project, user.id, judges)


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

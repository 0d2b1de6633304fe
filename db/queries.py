"""Shared queries over the append-only judgements table: a row is current while no later row supersedes it."""

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session, aliased

from db.models import Comparison, Judgement

_later = aliased(Judgement)


def is_current():
    """WHERE clause: no row supersedes this Judgement row."""
    return ~exists().where(_later.supersedes_id == Judgement.id)


def current(kind: str, project_id: int) -> Select:
    """Current rows of `kind` ('judgement' or 'adjudication') in a project, oldest first."""
    return (
        select(Judgement)
        .join(Comparison, Comparison.id == Judgement.comparison_id)
        .where(Comparison.project_id == project_id, Judgement.kind == kind, is_current())
        .order_by(Judgement.id)
    )


def current_for_item(session: Session, kind: str, comparison_id: int, user_id: int | None = None) -> list[Judgement]:
    """Current rows of `kind` on one item (optionally one user's), oldest first."""
    stmt = select(Judgement).where(Judgement.comparison_id == comparison_id, Judgement.kind == kind, is_current())
    if user_id is not None:
        stmt = stmt.where(Judgement.user_id == user_id)
    return list(session.scalars(stmt.order_by(Judgement.id)))


def judges_per_item(session: Session, project_id: int) -> dict[int, set[int]]:
    """comparison id -> ids of users with a current judgement on it."""
    out: dict[int, set[int]] = {}
    for comparison_id, user_id in session.execute(
        current("judgement", project_id).with_only_columns(Judgement.comparison_id, Judgement.user_id)
    ):
        out.setdefault(comparison_id, set()).add(user_id)
    return out

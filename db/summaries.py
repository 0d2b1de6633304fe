"""Aggregates over judgements (viewers see aggregates only): pairwise outcomes and per-system mean ratings, with no
annotator, item, dialogue, time, reason or gold answer, so no row can be traced back to a judgement. Row-level data
is db.exports (researchers) and db.annotate's own-judgement calls (annotators).

Blindness rule: an aggregate names systems, so comparing it before and after one's own judgement tells which system
wrote reply A or B. Per-system aggregates of a project are therefore refused to an annotator who still has items to
judge in it (an item they have not judged whose judge slots are not all taken), as Chatbot Arena reveals the models
only after the vote; `may_see_system_aggregates` is the one check. Viewers never judge; researchers and admins read
row-level judgements with system names by role, so the rule cannot blind them (blind annotators get the annotator
role)."""

from collections import Counter, defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from db.errors import PermissionDeniedError
from db.models import Comparison, Judgement, Response, System
from db.projects import get_project_row
from db.queries import is_current, judges_per_item
from db.users import require_role
from formats.vocab import RATINGS

_RA, _RB = aliased(Response), aliased(Response)
_SA, _SB = aliased(System), aliased(System)


def items_left(session: Session, *, user_id: int, project_id: int) -> int:
    """Items of the project `user_id` has not judged and that still have a free judge slot."""
    project = get_project_row(session, project_id)
    judges = judges_per_item(session, project_id)
    ids = session.scalars(select(Comparison.id).where(Comparison.project_id == project_id))
    k = project.annotators_per_item
    return sum(1 for cid in ids if user_id not in judges.get(cid, ()) and len(judges.get(cid, ())) < k)


def may_see_system_aggregates(session: Session, *, actor: str | None, project_id: int) -> bool:
    """The blindness rule (module docstring): False for an annotator with items left to judge in the project. The
    CLI operator (actor None: `pal report`) holds the database and is never blind."""
    user = require_role(session, actor, "viewer", allow_cli=True)
    if (
        user is None or user.role != "annotator"
    ):  # viewers never judge; researchers and admins read rows with system names
        get_project_row(session, project_id)
        return True
    return items_left(session, user_id=user.id, project_id=project_id) == 0


def require_unblinded(session: Session, actor: str | None, project_id: int) -> None:
    """PermissionDeniedError unless `actor` may see the project's per-system aggregates."""
    if not may_see_system_aggregates(session, actor=actor, project_id=project_id):
        raise PermissionDeniedError(
            f"{actor!r} still has items to judge in project {project_id}: per-system results stay hidden until "
            "then (blind annotation)"
        )


def _current(session: Session, project_id: int, *columns) -> list:
    return session.execute(
        select(_SA.name, _SB.name, *columns)
        .join(Comparison, Comparison.id == Judgement.comparison_id)
        .join(_RA, _RA.id == Comparison.response_a_id)
        .join(_SA, _SA.id == _RA.system_id)
        .join(_RB, _RB.id == Comparison.response_b_id)
        .join(_SB, _SB.id == _RB.system_id)
        .where(Comparison.project_id == project_id, Judgement.kind == "judgement", is_current())
    ).all()


def outcome_counts(session: Session, *, actor: str, project_id: int) -> list[dict]:
    """How often each pair of systems got each answer (viewer; refused while `actor` has items to judge):
    [{"system_a", "system_b", "preference", "n"}], sorted by those keys. Enough for Bradley-Terry and win rates;
    nothing ties a count to an annotator or an item."""
    require_unblinded(session, actor, project_id)
    counts = Counter(_current(session, project_id, Judgement.preference))
    return [
        {"system_a": a, "system_b": b, "preference": p, "n": n}
        for (a, b, p), n in sorted(counts.items(), key=lambda kv: tuple(str(x) for x in kv[0]))
    ]


def criterion_means(session: Session, *, actor: str, project_id: int) -> list[dict]:
    """Mean of the answered ratings per system and criterion (viewer; refused while `actor` has items to judge):
    [{"system", "criterion", "mean", "n"}] (n: answered ratings; unanswered ones are left out, never counted as a
    value), sorted by system, criterion."""
    require_unblinded(session, actor, project_id)
    columns = [getattr(Judgement, f"{c}_{side}") for c in RATINGS for side in ("a", "b")]
    values: dict[tuple[str, str], list[int]] = defaultdict(list)
    for system_a, system_b, *ratings in _current(session, project_id, *columns):
        answers = dict(zip([(c, side) for c in RATINGS for side in ("a", "b")], ratings, strict=True))
        for (criterion, side), value in answers.items():
            if value is not None:
                values[(system_a if side == "a" else system_b, criterion)].append(value)
    return [
        {"system": system, "criterion": criterion, "mean": sum(v) / len(v), "n": len(v)}
        for (system, criterion), v in sorted(values.items())
    ]

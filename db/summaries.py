"""Aggregates any role may see (viewers see aggregates only): pairwise outcomes and per-system mean ratings, with no
annotator, item, dialogue, time, reason or gold answer, so no row can be traced back to a judgement. Row-level data
is db.exports (researchers) and db.annotate's own-judgement calls (annotators)."""

from collections import Counter, defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from db.models import Comparison, Judgement, Response, System
from db.projects import get_project_row
from db.queries import is_current
from db.users import require_role
from formats.vocab import RATINGS

_RA, _RB = aliased(Response), aliased(Response)
_SA, _SB = aliased(System), aliased(System)


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
    """How often each pair of systems got each answer (viewer): [{"system_a", "system_b", "preference", "n"}],
    sorted by those keys. Enough for Bradley-Terry and win rates; nothing ties a count to an annotator or an item."""
    require_role(session, actor, "viewer", allow_cli=True)  # the CLI operator (pal report)
    get_project_row(session, project_id)
    counts = Counter(_current(session, project_id, Judgement.preference))
    return [
        {"system_a": a, "system_b": b, "preference": p, "n": n}
        for (a, b, p), n in sorted(counts.items(), key=lambda kv: tuple(str(x) for x in kv[0]))
    ]


def criterion_means(session: Session, *, actor: str, project_id: int) -> list[dict]:
    """Mean of the answered ratings per system and criterion (viewer): [{"system", "criterion", "mean", "n"}]
    (n: answered ratings; unanswered ones are left out, never counted as a value), sorted by system, criterion."""
    require_role(session, actor, "viewer")
    get_project_row(session, project_id)
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

"""Failed-login throttling, counted atomically on SQLite and PostgreSQL.

Every login attempt is counted twice before its password is checked: per (account, source) and per source (all
accounts together), `source` being the client's address. Counting is one conditional `UPDATE ... RETURNING` per key
that skips a locked key, so on PostgreSQL it takes the row lock and parallel attempts queue behind it; on SQLite the
writing transaction (`BEGIN IMMEDIATE`) already runs alone. After FREE_FAILURES failures in a row for an (account,
source), or SOURCE_FREE_FAILURES failures from one source within FORGET_AFTER, that key is locked for LOCK_BASE,
doubling with each further failure up to LOCK_MAX; a locked key refuses attempts without checking a password.

So a guesser locks only their own address, never the account: its owner (an admin included) still signs in from
another source. The account name is counted whether or not it exists, so an unknown name is answered exactly as a
real one. A success clears its (account, source) count and takes its own attempt back from the source count.
Refusals during a lock are counted on the row; the caller audits the first one and a summary when the lock is over.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, case, delete, or_, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from db.models import LoginThrottle, utc_now

FREE_FAILURES = 3  # failed logins in a row for one account from one source before that pair is locked
SOURCE_FREE_FAILURES = 10  # failed logins from one source (any accounts) within FORGET_AFTER before it is locked
LOCK_BASE = timedelta(seconds=2)  # first lock; it doubles with every further failure ...
LOCK_MAX = timedelta(minutes=15)  # ... up to this
FORGET_AFTER = timedelta(hours=1)  # a source's failures count within a window this long
SOURCE_LENGTH = 255


@dataclass
class Attempt:
    """An attempt that was counted: per key (scope, account, source) the failures it reached, and the refusals
    of a lock that has ended there, for the caller's audit summary."""

    name: str
    source: str
    counts: dict[str, int] = field(default_factory=dict)
    ended_locks: dict[str, int] = field(default_factory=dict)


@dataclass
class Refusal:
    """An attempt refused because `scope` is locked for `seconds` more; `refused`: refusals in this lock so far."""

    scope: str
    seconds: float
    refused: int


def _keys(name: str, source: str) -> dict[str, tuple[str, str]]:
    return {"source": ("", source), "account": (name, source)}  # in this order always: no deadlock on PostgreSQL


def _where(scope: str, account: str, source: str):
    return and_(LoginThrottle.scope == scope, LoginThrottle.account == account, LoginThrottle.source == source)


def _ensure_row(session: Session, scope: str, account: str, source: str) -> None:
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(LoginThrottle).values(scope=scope, account=account, source=source, failures=0, refused=0)
    session.execute(statement.on_conflict_do_nothing(index_elements=["scope", "account", "source"]))


def _count(session: Session, scope: str, account: str, source: str, now: datetime) -> tuple[int, int] | None:
    """Add one attempt to an unlocked key: (failures now, refusals counted during its last lock); None when locked."""
    window_over = or_(LoginThrottle.last_attempt_at.is_(None), LoginThrottle.last_attempt_at < now - FORGET_AFTER)
    restart = window_over if scope == "source" else LoginThrottle.last_attempt_at.is_(None)
    row = session.execute(
        update(LoginThrottle)
        .where(
            _where(scope, account, source),
            or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= now),
        )
        .values(
            failures=case((restart, 1), else_=LoginThrottle.failures + 1),
            last_attempt_at=case((restart, now), else_=LoginThrottle.last_attempt_at),
        )
        .returning(LoginThrottle.failures, LoginThrottle.refused)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    return None if row is None else (row.failures, row.refused)


def _refuse(session: Session, scope: str, account: str, source: str, now: datetime) -> Refusal:
    row = session.execute(
        update(LoginThrottle)
        .where(_where(scope, account, source))
        .values(refused=LoginThrottle.refused + 1)
        .returning(LoginThrottle.refused, LoginThrottle.locked_until)
        .execution_options(synchronize_session=False)
    ).one()
    return Refusal(scope, max((row.locked_until - now).total_seconds(), 0.0), row.refused)


def _step(session: Session, scope: str, account: str, source: str, delta: int, **values) -> None:
    session.execute(
        update(LoginThrottle)
        .where(_where(scope, account, source))
        .values(failures=LoginThrottle.failures + delta, **values)
        .execution_options(synchronize_session=False)
    )


def count_attempt(session: Session, *, name: str, source: str) -> Attempt | Refusal:
    """Count one login attempt for `name` from `source` before its password is checked, or refuse it (Refusal) when
    the source or the (account, source) pair is locked. Call record_failure or record_success after the check."""
    now = utc_now()
    attempt = Attempt(name, source)
    for scope, (account, src) in _keys(name, source).items():
        _ensure_row(session, scope, account, src)
        counted = _count(session, scope, account, src, now)
        if counted is None:
            if scope == "account":  # give the source its attempt back: this one is not checked
                _step(session, "source", "", source, -1)
            return _refuse(session, scope, account, src, now)
        attempt.counts[scope] = counted[0]
        if counted[1]:  # a lock ended here since its refusals were counted: hand them over for the summary
            attempt.ended_locks[scope] = counted[1]
            _step(session, scope, account, src, 0, refused=0)
    return attempt


def lock_for(failures: int, free: int) -> timedelta | None:
    """How long a key is locked after its `failures`-th failure in a row (None below `free`)."""
    return None if failures < free else min(LOCK_BASE * 2 ** (failures - free), LOCK_MAX)


def record_failure(session: Session, attempt: Attempt) -> dict:
    """Lock the keys whose count reached their limit; returns the audit details of the failure."""
    now = utc_now()
    details: dict = {"failures": attempt.counts["account"], "source": attempt.source}
    frees = {"account": FREE_FAILURES, "source": SOURCE_FREE_FAILURES}
    for scope, (account, source) in _keys(attempt.name, attempt.source).items():
        lock = lock_for(attempt.counts[scope], frees[scope])
        if lock is not None:
            _step(session, scope, account, source, 0, locked_until=now + lock)
            details["locked_seconds" if scope == "account" else "source_locked_seconds"] = lock.total_seconds()
    return details


def record_success(session: Session, attempt: Attempt) -> None:
    """Clear the (account, source) count; the source gets this attempt back."""
    _step(session, "source", "", attempt.source, -1)
    account, source = _keys(attempt.name, attempt.source)["account"]
    session.execute(
        update(LoginThrottle)
        .where(_where("account", account, source))
        .values(failures=0, locked_until=None, last_attempt_at=None)
        .execution_options(synchronize_session=False)
    )


def clear_account(session: Session, name: str) -> None:
    """Forget every failure and lock of account `name`, from all sources (an admin enabled it or set its password)."""
    session.execute(
        delete(LoginThrottle)
        .where(LoginThrottle.scope == "account", LoginThrottle.account == name)
        .execution_options(synchronize_session=False)
    )

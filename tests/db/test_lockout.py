"""Failed logins (db/throttle.py, db/users.py; issue 22 items 4, 5, 6): counted atomically per (account, source)
and per source on SQLite and PostgreSQL, unknown and locked accounts answered alike, a clean source still signs in,
and refusals during a lock summarised in the audit log instead of one row each."""

import threading
from datetime import timedelta

import pytest
from dbkit import PASSWORD
from sqlalchemy import func, select, update

from db import store
from db.errors import AuthenticationError
from db.models import AuditLog, LoginThrottle, utc_now
from db.throttle import FREE_FAILURES, SOURCE_FREE_FAILURES

BAD = "authentication failed: unknown user or wrong password"
LOCKED = "authentication failed: too many failed attempts from here; try again in "


def _login(factory, name: str, password: str, source: str = "10.0.0.1") -> dict | str:
    """store.login in its own transaction; the error message when refused (its record is committed)."""
    with factory.begin() as s:
        try:
            return store.login(s, name=name, password=password, source=source)
        except AuthenticationError as e:
            return str(e)


def _audit(factory, action: str) -> list[AuditLog]:
    with factory() as s:
        return s.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)).all()


def _unlock(factory) -> None:
    """Let every lock run out now (instead of waiting for it)."""
    with factory.begin() as s:
        s.execute(update(LoginThrottle).values(locked_until=utc_now() - timedelta(seconds=1)))


def test_parallel_wrong_passwords_get_only_the_free_checks(factory):
    """16 simultaneous wrong passwords for one account: exactly FREE_FAILURES are checked, the rest refused."""
    results: list[str] = []
    start = threading.Barrier(16)

    def attempt(i: int) -> None:
        start.wait()
        with factory.begin() as s:
            try:
                store.login(s, name="alice", password=f"wrong-{i}")
            except AuthenticationError as e:
                results.append(str(e))

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 16 and results.count(BAD) == FREE_FAILURES
    assert all(r.startswith(LOCKED) for r in results if r != BAD)
    assert len(_audit(factory, "login_failed")) == FREE_FAILURES


def test_failures_lock_with_growing_delay_and_a_success_clears_them(factory):
    results = [_login(factory, "alice", f"wrong-{i}") for i in range(5)]
    assert results[:3] == [BAD] * 3 and results[3].startswith(LOCKED) and results[4].startswith(LOCKED)
    assert _login(factory, "alice", PASSWORD).startswith(LOCKED)  # locked here: even the right password
    failed = _audit(factory, "login_failed")
    assert [(a.target, a.details["failures"], a.details.get("locked_seconds")) for a in failed] == [
        ("alice", 1, None),
        ("alice", 2, None),
        ("alice", 3, 2.0),
    ]
    _unlock(factory)
    assert _login(factory, "alice", "wrong-again") == BAD
    assert _audit(factory, "login_failed")[-1].details["locked_seconds"] == 4.0  # doubled
    _unlock(factory)
    assert _login(factory, "alice", PASSWORD)["name"] == "alice"
    with factory() as s:
        row = s.scalars(select(LoginThrottle).where(LoginThrottle.account == "alice")).one()
        assert row.failures == 0 and row.locked_until is None


def test_unknown_and_locked_accounts_are_answered_alike(factory):
    real = [_login(factory, "alice", f"wrong-{i}") for i in range(6)]
    unknown = [_login(factory, "nobody", f"wrong-{i}") for i in range(6)]
    assert [r[: len(LOCKED)] for r in real] == [r[: len(LOCKED)] for r in unknown]
    assert unknown[3].startswith(LOCKED)


def test_a_locked_out_admin_still_signs_in_from_a_clean_source(factory):
    for i in range(FREE_FAILURES + 2):
        _login(factory, "admin", f"guess-{i}", source="203.0.113.7")
    assert _login(factory, "admin", PASSWORD, source="203.0.113.7").startswith(LOCKED)
    assert _login(factory, "admin", PASSWORD, source="10.0.0.2")["name"] == "admin"


def test_one_source_spraying_many_accounts_is_stopped_others_are_not(factory):
    results = [_login(factory, f"user{i}", "guess", source="198.51.100.9") for i in range(SOURCE_FREE_FAILURES + 1)]
    assert results[:SOURCE_FREE_FAILURES] == [BAD] * SOURCE_FREE_FAILURES
    assert results[-1].startswith(LOCKED)
    assert _login(factory, "bob", PASSWORD, source="198.51.100.9").startswith(LOCKED)
    assert _login(factory, "bob", PASSWORD, source="10.0.0.3")["name"] == "bob"


def test_refusals_during_a_lock_are_summarised_not_logged_one_by_one(factory):
    for i in range(FREE_FAILURES):
        _login(factory, "alice", f"wrong-{i}")
    with factory() as s:
        before = s.scalar(select(func.count()).select_from(AuditLog))
    for _ in range(40):
        assert _login(factory, "alice", "wrong").startswith(LOCKED)
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(AuditLog)) == before + 1  # the first refusal only
    assert [a.details["refused"] for a in _audit(factory, "login_locked")] == [1]
    _unlock(factory)
    assert _login(factory, "alice", PASSWORD)["name"] == "alice"
    summary = _audit(factory, "login_locked_summary")
    assert [(a.target, a.details["refused"], a.details["source"]) for a in summary] == [("alice", 40, "10.0.0.1")]


@pytest.mark.parametrize("change", ["enable", "password"])
def test_admin_enable_or_password_change_clears_every_lock_of_the_account(factory, change):
    for i in range(FREE_FAILURES):
        _login(factory, "alice", f"wrong-{i}")
    with factory.begin() as s:
        if change == "enable":
            store.set_disabled(s, actor="admin", name="alice", disabled=False)
        else:
            store.change_password(s, actor="admin", name="alice", new_password=PASSWORD)
    assert _login(factory, "alice", PASSWORD)["name"] == "alice"

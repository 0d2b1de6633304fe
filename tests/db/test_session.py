"""db/session.py: default URL, SQLite pragmas, session factory settings, read sessions that take no lock, and the
bounded retry and clear message on locks."""

import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from db import session as db_session
from db.errors import DatabaseBusyError, StoreError
from db.models import AuditLog, Response
from db.session import (
    SQLITE_BUSY_TIMEOUT_MS,
    default_db_url,
    make_engine,
    make_session_factory,
    read_session,
    run_in_transaction,
    upgrade_db,
)


def test_default_db_url_env_and_fallback(monkeypatch):
    monkeypatch.setenv("PAL_DB_URL", "postgresql+psycopg://u@h/db")
    assert default_db_url() == "postgresql+psycopg://u@h/db"
    monkeypatch.delenv("PAL_DB_URL")
    assert default_db_url() == f"sqlite:///{Path.home() / '.local/share/pal-studio/pal.db'}"


def test_sqlite_engine_pragmas_and_parent_dir(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'a' / 'b' / 'pal.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == SQLITE_BUSY_TIMEOUT_MS == 10_000
    engine.dispose()
    assert (tmp_path / "a" / "b" / "pal.db").is_file()


def test_session_factory_keeps_rows_and_enforces_foreign_keys(tmp_path):
    url = f"sqlite:///{tmp_path / 'pal.db'}"
    upgrade_db(url)
    factory = make_session_factory(url)
    assert factory.kw["expire_on_commit"] is False
    with pytest.raises(IntegrityError), factory.begin() as s:
        s.add(Response(dialogue_id=123, system_id=456, text="orphan"))


def _locked() -> OperationalError:
    return OperationalError("INSERT ...", {}, sqlite3.OperationalError("database is locked"))


def test_run_in_transaction_retries_locks_a_bounded_number_of_times(tmp_path):
    factory = make_session_factory(f"sqlite:///{tmp_path / 'pal.db'}")
    calls = []

    def flaky(session):
        calls.append(1)
        if len(calls) < 3:
            raise _locked()
        return session.execute(text("SELECT 7")).scalar()

    assert run_in_transaction(factory, flaky, retries=3) == 7 and len(calls) == 3

    def always_locked(session):
        raise _locked()

    with pytest.raises(
        DatabaseBusyError, match=r"database: expected the write lock within 10 s, got 'database is locked'"
    ):
        run_in_transaction(factory, always_locked, retries=1)

    def other_error(session):
        calls.append(1)
        raise OperationalError("SELECT", {}, sqlite3.OperationalError("no such table: x"))

    calls.clear()
    with pytest.raises(OperationalError, match="no such table"):
        run_in_transaction(factory, other_error, retries=5)
    assert len(calls) == 1  # only locks are retried


def _audit_rows(session) -> int:
    return session.scalar(select(func.count()).select_from(AuditLog))


def test_read_session_neither_waits_for_a_writer_nor_writes(db_url):
    """A page load that only reads runs while a write transaction is open in the same thread (it waited 30 s and
    raised "database is locked" when every transaction began IMMEDIATE)."""
    factory = make_session_factory(db_url)
    try:
        with factory.begin() as writer:
            writer.add(AuditLog(actor="t", action="open-write"))
            writer.flush()
            start = time.monotonic()
            with read_session(factory) as reader:
                seen = _audit_rows(reader)
            assert time.monotonic() - start < 2.0
            assert seen == _audit_rows(writer) - 1  # the uncommitted row is not visible
        with read_session(factory) as reader:
            reader.add(AuditLog(actor="t", action="read-write"))
            try:
                reader.flush()  # PostgreSQL refuses it (READ ONLY transaction) ...
            except DBAPIError as e:
                assert "read-only transaction" in str(e)
        with factory() as s:  # ... and on SQLite it is rolled back with the read session
            assert s.scalar(select(func.count()).where(AuditLog.action == "read-write")) == 0
    finally:
        factory.kw["bind"].dispose()


def test_second_writer_gets_a_clear_busy_error(tmp_path, monkeypatch):
    monkeypatch.setattr(db_session, "SQLITE_BUSY_TIMEOUT_MS", 200)  # wait 0.2 s instead of 10 s
    url = f"sqlite:///{tmp_path / 'pal.db'}"
    upgrade_db(url)
    factory = make_session_factory(url)
    try:
        with factory.begin() as first:
            first.add(AuditLog(actor="t", action="first"))
            first.flush()
            with pytest.raises(
                StoreError, match=r"database: expected the write lock within 0.2 s, got 'database is locked'"
            ):
                with factory.begin() as second:  # BEGIN IMMEDIATE: writes still take the lock up front
                    second.add(AuditLog(actor="t", action="second"))
        with pytest.raises(DatabaseBusyError):  # run_in_transaction retries, then says the same
            with factory.begin() as first:
                first.add(AuditLog(actor="t", action="held"))
                first.flush()
                run_in_transaction(factory, lambda s: s.add(AuditLog(actor="t", action="late")), retries=2)
    finally:
        factory.kw["bind"].dispose()

"""db/session.py: default URL, SQLite pragmas, session factory settings and the bounded retry on locks."""

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from db.models import Response
from db.session import default_db_url, make_engine, make_session_factory, run_in_transaction, upgrade_db


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
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30_000
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

    with pytest.raises(OperationalError, match="database is locked"):
        run_in_transaction(factory, always_locked, retries=1)

    def other_error(session):
        calls.append(1)
        raise OperationalError("SELECT", {}, sqlite3.OperationalError("no such table: x"))

    calls.clear()
    with pytest.raises(OperationalError, match="no such table"):
        run_in_transaction(factory, other_error, retries=5)
    assert len(calls) == 1  # only locks are retried

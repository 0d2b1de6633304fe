"""seed_demo (db/demo.py): users, systems, project and judgements from the shipped demo runs; idempotent; only in a
database it started itself (the demo passwords are public)."""

from pathlib import Path

import pytest
from sqlalchemy import func, select

from db import store
from db.errors import StoreError
from db.models import AuditLog, Comparison, Judgement, Project, System, User
from db.session import make_session_factory, upgrade_db

DEMO_RUNS = Path(__file__).resolve().parents[2] / "pal_core" / "demo" / "runs"
MODELS = (User, System, Project, Comparison, Judgement, AuditLog)


@pytest.fixture
def empty_factory(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    upgrade_db(url)
    factory = make_session_factory(url)
    yield factory
    factory.kw["bind"].dispose()


def _counts(factory) -> list[int]:
    with factory() as s:
        return [s.scalar(select(func.count()).select_from(m)) for m in MODELS]


def test_seed_demo_fills_an_empty_database_once(empty_factory):
    with empty_factory() as s:
        assert not store.is_demo(s)
    with empty_factory.begin() as s:
        first = store.seed_demo(s, runs_dir=DEMO_RUNS)
    assert first["created"] and first["n_judgements"] == 10
    assert first["users"] == list(store.DEMO_USERS)
    counts = _counts(empty_factory)
    with empty_factory.begin() as s:
        second = store.seed_demo(s, runs_dir=DEMO_RUNS)
    assert second == {
        "users": [],
        "systems": [],
        "project_id": first["project_id"],
        "n_judgements": 0,
        "created": False,
    }
    assert _counts(empty_factory) == counts
    with empty_factory() as s:
        assert store.is_demo(s)
        project = store.get_project(s, actor="viewer", project_id=first["project_id"])
        assert project["name"] == store.DEMO_PROJECT and project["annotators_per_item"] == 2 and project["n_gold"] > 0
        assert len(store.list_disagreements(s, actor="researcher", project_id=project["id"])) == 1
        for name, (role, password) in store.DEMO_USERS.items():
            assert store.authenticate(s, name=name, password=password)["role"] == role


def test_seed_demo_refuses_a_database_with_real_users(factory, count):
    """The test template holds admin, alice, ...: a real database, so no demo accounts go into it."""
    before = [count(m) for m in MODELS]
    with pytest.raises(StoreError, match=r"database: expected an empty database or one `pal demo seed` made, got one"):
        with factory.begin() as s:
            store.seed_demo(s, runs_dir=DEMO_RUNS)
    assert [count(m) for m in MODELS] == before
    with factory() as s:
        assert not store.is_demo(s)


def test_seed_demo_refuses_a_database_with_imported_runs_but_no_users(empty_factory, tmp_path):
    from dbkit import write_run

    with empty_factory.begin() as s:
        store.import_run(s, actor=None, run_dir=write_run(tmp_path / "real", "real_system", 2))
    before = _counts(empty_factory)
    with pytest.raises(StoreError, match=r"database: expected an empty database or one `pal demo seed` made, got one"):
        with empty_factory.begin() as s:
            store.seed_demo(s, runs_dir=DEMO_RUNS)
    assert _counts(empty_factory) == before
    with empty_factory() as s:
        assert not store.is_demo(s) and store.is_empty(s)

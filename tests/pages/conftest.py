"""Page test fixtures: a demo database (seeded once, copied per test) behind PAL_DB_URL."""

import shutil
from pathlib import Path

import pytest

from db import store
from db.session import make_session_factory, upgrade_db
from pal_core import data


@pytest.fixture(scope="session")
def demo_db_file(tmp_path_factory) -> Path:
    """A SQLite file with the schema and the demo seeded (users, 4 systems, a project, ~10 judgements)."""
    path = tmp_path_factory.mktemp("demo-db") / "demo.db"
    url = f"sqlite:///{path}"
    upgrade_db(url)
    engine_factory = make_session_factory(url)
    with engine_factory.begin() as session:
        store.seed_demo(session, runs_dir=data.demo_runs_dir())
    engine_factory.kw["bind"].dispose()
    return path


@pytest.fixture
def db_url(demo_db_file, tmp_path, monkeypatch) -> str:
    """PAL_DB_URL pointing at a private copy of the demo database."""
    path = tmp_path / "pal.db"
    shutil.copy(demo_db_file, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("PAL_DB_URL", url)
    return url

"""Database fixtures: every store test runs on a SQLite file and (marker `postgres`) on a real PostgreSQL server that
this file starts from the Debian binaries on a free local port and stops at the end.

Each test gets a fresh database copied from a template (schema + users + three small systems) built once per
backend, so tests stay fast even though passwords are hashed with argon2.
"""

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from dbkit import N_DIALOGUES, PASSWORD, SYSTEMS, USERS, write_run  # noqa: F401
from sqlalchemy import create_engine, func, select, text
from testkit import free_port

from db import store
from db.models import Base
from db.session import make_session_factory, upgrade_db


def _fill_template(url: str, runs_dir: Path) -> None:
    upgrade_db(url)
    factory = make_session_factory(url)
    with factory.begin() as session:
        for name, role in USERS.items():
            store.create_user(session, actor=None, name=name, password=PASSWORD, role=role)
        for system in SYSTEMS:
            store.import_run(session, actor="admin", run_dir=write_run(runs_dir / system, system, N_DIALOGUES))
    factory.kw["bind"].dispose()


@pytest.fixture(scope="session")
def pg_server():
    """(URL, template rows) of a database on a throwaway PostgreSQL server; skips when the binaries are absent."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins and not shutil.which("initdb"):
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) not found")
    bindir = Path(bins[-1]).parent if bins else Path(shutil.which("initdb")).parent
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    root = Path(tempfile.mkdtemp(prefix="pal-pg-"))  # under /tmp: the postgres user must be able to reach it
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if as_postgres:
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
    port = free_port()
    subprocess.run(
        [
            *as_postgres,
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        ],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    subprocess.run(
        [*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"],
        check=True,
        capture_output=True,
    )
    admin_url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    try:
        _create_database(admin_url, "pal_test")
        url = admin_url.rsplit("/", 1)[0] + "/pal_test"
        _fill_template(url, root / "runs")
        engine = create_engine(url)
        with engine.connect() as conn:
            snapshot = {t: [dict(r._mapping) for r in conn.execute(t.select())] for t in Base.metadata.sorted_tables}
        engine.dispose()
        yield url, snapshot
    finally:
        subprocess.run(
            [*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True
        )
        shutil.rmtree(root, ignore_errors=True)


def _reset_postgres(url: str, snapshot: dict) -> None:
    """Put the shared test database back to the template state: faster than CREATE DATABASE per test."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            names = ", ".join(t.name for t in snapshot)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            for table, rows in snapshot.items():
                if rows:
                    conn.execute(table.insert(), rows)
                    # explicit ids do not advance the serial sequence
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                            f"(SELECT max(id) FROM {table.name}))"
                        )
                    )
    finally:
        engine.dispose()


def _create_database(admin_url: str, name: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    _fill_template(f"sqlite:///{path}", path.parent / "runs")
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> str:
    """URL of a fresh database holding USERS and SYSTEMS, on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "pal.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url, snapshot = request.getfixturevalue("pg_server")
    _reset_postgres(url, snapshot)
    return url


@pytest.fixture
def factory(db_url):
    factory = make_session_factory(db_url)
    yield factory
    factory.kw["bind"].dispose()


@pytest.fixture
def count(factory):
    """count(Model) -> rows in its table, for 'nothing was written' checks."""

    def count(model) -> int:
        with factory() as session:
            return session.scalar(select(func.count()).select_from(model))

    return count

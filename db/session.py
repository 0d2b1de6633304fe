"""Engines, session factories and schema upgrades. Nothing is created at import time; callers own the objects.

SQLite gets WAL, foreign keys and a busy timeout. Writing transactions (`factory.begin()`) start with
`BEGIN IMMEDIATE` (a transaction that reads and then writes would otherwise fail at once with "database is locked"
when another writer got in between); read_session() starts a deferred one, which takes no lock and, under WAL,
never waits for a writer (on PostgreSQL it is a READ ONLY transaction). A lock that outlasts the busy timeout
becomes DatabaseBusyError, a StoreError with a clear message; run_in_transaction() retries it first.
"""

import contextlib
import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from db.errors import DatabaseBusyError

logger = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000  # how long a write waits for another writer before "database is locked"
SQLITE_BEGIN = "pal_sqlite_begin"  # execution option: how a SQLite transaction begins (IMMEDIATE by default)
READ_OPTIONS = {SQLITE_BEGIN: "DEFERRED", "postgresql_readonly": True}
T = TypeVar("T")


def default_db_url() -> str:
    """PAL_DB_URL if set, else a SQLite file under ~/.local/share/pal-studio/."""
    url = os.environ.get("PAL_DB_URL")
    if url:
        return url
    return f"sqlite:///{Path.home() / '.local' / 'share' / 'pal-studio' / 'pal.db'}"


def safe_url(url: str) -> str:
    """`url` fit to print or log: its password replaced by *** (SQLAlchemy's render_as_string(hide_password=True);
    text that does not parse as a URL gets whatever sits between ':' and '@' masked)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r":[^:@/]*@", ":***@", url)


def _sqlite_on_connect(dbapi_connection, connection_record) -> None:
    # Let SQLAlchemy's "begin" event emit BEGIN itself instead of pysqlite's implicit (deferred) one.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; a crash may lose the last commit, never corrupt
    cursor.close()


def _sqlite_on_begin(connection) -> None:
    mode = connection.get_execution_options().get(SQLITE_BEGIN, "IMMEDIATE")
    connection.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str | None = None) -> Engine:
    """An engine for `url` (default_db_url() when None); SQLite files get their parent folder created."""
    url = url or default_db_url()
    parsed = make_url(url)
    is_sqlite = parsed.get_backend_name() == "sqlite"
    if is_sqlite and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, pool_pre_ping=not is_sqlite)
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _busy(error: OperationalError) -> DatabaseBusyError:
    return DatabaseBusyError(
        f"database: expected the write lock within {SQLITE_BUSY_TIMEOUT_MS / 1000:g} s, got "
        f"'{error.orig}' (another write is still running); please try again"
    )


class StoreSessionmaker(sessionmaker):
    """sessionmaker whose begin() turns SQLite's "database is locked" into DatabaseBusyError (a StoreError)."""

    @contextlib.contextmanager
    def begin(self) -> Iterator[Session]:
        try:
            with super().begin() as session:
                yield session
        except OperationalError as e:
            if not is_locked_error(e):
                raise
            raise _busy(e) from e


def make_session_factory(url: str | None = None) -> StoreSessionmaker:
    """A sessionmaker bound to make_engine(url); rows stay readable after commit (expire_on_commit=False)."""
    return StoreSessionmaker(bind=make_engine(url), expire_on_commit=False)


@contextlib.contextmanager
def read_session(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for reading only: SQLite begins it deferred (no lock taken, no wait for writers), PostgreSQL runs
    it READ ONLY; it is rolled back at the end, so nothing it might write is kept."""
    with factory() as session:
        session.connection(execution_options=READ_OPTIONS)
        yield session


def alembic_config(url: str | None = None) -> Config:
    """An Alembic Config pointing at db/migrations and `url`, independent of the working directory."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["url"] = url or default_db_url()
    return cfg


def upgrade_db(url: str | None = None) -> None:
    """`alembic upgrade head` on `url` (creates the schema on a new database)."""
    url = url or default_db_url()
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            cfg = alembic_config(url)
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")
    finally:
        engine.dispose()


def is_locked_error(error: OperationalError) -> bool:
    """True for SQLite's transient 'database is locked' / 'database table is locked' errors."""
    return "locked" in str(error.orig).lower()


def run_in_transaction(factory: sessionmaker[Session], fn: Callable[[Session], T], *, retries: int = 5) -> T:
    """Run fn(session) in one transaction, retrying it (bounded) when SQLite reports a lock; DatabaseBusyError
    when the last try is locked too."""
    for attempt in range(retries + 1):
        try:
            with factory.begin() as session:
                return fn(session)
        except DatabaseBusyError:  # StoreSessionmaker.begin() turned the lock error into this
            if attempt == retries:
                raise
        except OperationalError as e:  # a plain sessionmaker
            if not is_locked_error(e):
                raise
            if attempt == retries:
                raise _busy(e) from e
        logger.warning("database locked, retrying (%d/%d)", attempt + 1, retries)
        time.sleep(0.05 * 2**attempt)
    raise AssertionError("unreachable")

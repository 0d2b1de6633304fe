"""Engines, session factories and schema upgrades. Nothing is created at import time; callers own the objects.

SQLite gets WAL, foreign keys, a busy timeout and `BEGIN IMMEDIATE` transactions (a transaction that reads and then
writes would otherwise fail at once with "database is locked" when another writer got in between).
"""

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

logger = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
T = TypeVar("T")


def default_db_url() -> str:
    """PAL_DB_URL if set, else a SQLite file under ~/.local/share/pal-studio/."""
    url = os.environ.get("PAL_DB_URL")
    if url:
        return url
    return f"sqlite:///{Path.home() / '.local' / 'share' / 'pal-studio' / 'pal.db'}"


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
    connection.exec_driver_sql("BEGIN IMMEDIATE")


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


def make_session_factory(url: str | None = None) -> sessionmaker[Session]:
    """A sessionmaker bound to make_engine(url); rows stay readable after commit (expire_on_commit=False)."""
    return sessionmaker(bind=make_engine(url), expire_on_commit=False)


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
    """Run fn(session) in one transaction, retrying it (bounded) when SQLite reports a lock."""
    for attempt in range(retries + 1):
        try:
            with factory.begin() as session:
                return fn(session)
        except OperationalError as e:
            if not is_locked_error(e) or attempt == retries:
                raise
            logger.warning("database locked, retrying (%d/%d)", attempt + 1, retries)
            time.sleep(0.05 * 2**attempt)
    raise AssertionError("unreachable")

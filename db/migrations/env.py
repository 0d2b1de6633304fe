"""Alembic environment: uses the models' metadata; the URL comes from the caller (db.session.upgrade_db), the
`sqlalchemy.url` of alembic.ini, or PAL_DB_URL (the default of db.session.default_db_url)."""

from alembic import context

from db.models import Base
from db.session import default_db_url, make_engine

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.attributes.get("url") or config.get_main_option("sqlalchemy.url") or default_db_url()


def _configure(**kwargs) -> None:
    # render_as_batch lets SQLite ALTER tables (no-op elsewhere); compare_type catches column type changes.
    context.configure(target_metadata=target_metadata, render_as_batch=True, compare_type=True, **kwargs)


def run_migrations_offline() -> None:
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as connection:
            _configure(connection=connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

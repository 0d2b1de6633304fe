"""The only Streamlit-cached getters: the session factory (schema upgraded), run directories read from disk, the demo
examples and language models (typed paths confined to allowed roots). Cache keys are the arguments, so a test that
moves PAL_DB_URL gets its own entry."""

import logging
import os
from pathlib import Path

import streamlit as st

import formats
from db.session import default_db_url, make_session_factory, read_session, upgrade_db
from pal_core import data
from pal_core.errors import ConfigError, DataFormatError

logger = logging.getLogger(__name__)
ROOTS_ENV = "PAL_ROOTS"  # extra folders (os.pathsep-separated) whose runs and models the dashboard may read
LOCAL_ROOTS = ("runs", "models", ".pal")  # under the app's working directory (.pal/jobs: trained models)
MAX_CACHED_MODELS = 2  # language models held in memory at once; the least recently used one is dropped


def db_url() -> str:
    """The database URL (PAL_DB_URL, else the default SQLite file)."""
    return default_db_url()


@st.cache_resource(show_spinner="Opening the database...")
def session_factory(url: str):
    """A sessionmaker for `url`, after `alembic upgrade head` (cached per URL, so the upgrade runs once per process,
    never on a page's rerun). No data is added: the first admin comes from `pal user add NAME --role admin`, the demo
    accounts only from `pal demo seed` into a database of their own."""
    upgrade_db(url)
    return make_session_factory(url)


def read_only():
    """A read-only session on the app's database (db.session.read_session: no write lock on SQLite, READ ONLY on
    PostgreSQL), for page loads that only read."""
    return read_session(session_factory(db_url()))


@st.cache_data(show_spinner=False)
def load_run(run_dir: str) -> dict:
    """{"config", "metrics", "rows"} of a run directory, read by formats.read_run (config/metrics empty when their
    file is missing). Rows are outputs.jsonl objects with every documented key (None when the run lacks it, e.g.
    `scores` of a system that selects nothing); a malformed file raises DataFormatError naming file and line."""
    run = formats.read_run(run_dir, error=DataFormatError)
    return {"config": run.config, "metrics": run.metrics, "rows": [row.to_dict() for row in run.rows]}


def allowed_roots() -> list[Path]:
    """Folders whose run directories and models a path typed in the dashboard may point into: the demo runs,
    ./runs, ./models, ./.pal and the folders listed in PAL_ROOTS."""
    extra = [p for p in os.environ.get(ROOTS_ENV, "").split(os.pathsep) if p.strip()]
    folders = [data.demo_runs_dir(), *(Path.cwd() / r for r in LOCAL_ROOTS), *map(Path, extra)]
    return [f.expanduser().resolve() for f in folders]


def confine(path: str | Path) -> Path:
    """`path` resolved (symlinks and `..` followed) if it lies under allowed_roots(); ConfigError otherwise."""
    resolved = Path(path).expanduser().resolve()
    roots = allowed_roots()
    if not any(resolved.is_relative_to(root) for root in roots):
        raise ConfigError(
            f"path: expected a path under {', '.join(map(str, roots))} (add folders with {ROOTS_ENV}), got {resolved}"
        )
    return resolved


def confine_model(name_or_path: str) -> str:
    """A model the Playground or a training run may load: "" (the default), a packaged or cached Hub name, or a
    local folder under allowed_roots() (ConfigError otherwise)."""
    from pal_core.inference import models

    name = name_or_path.strip()
    if not name or name.lower() == models.DEFAULT_LM or name.lower() in models.PACKAGED_LMS:
        return name
    local = Path(name).expanduser()
    if local.exists() or local.is_absolute() or name.startswith((".", "~")) or name.count("/") > 1:
        return str(confine(local))
    return name  # a Hub id: resolved from the local cache only (models load offline)


def find_runs(folder: str | Path) -> dict[str, str]:
    """Run directories directly under `folder` (or `folder` itself): label -> path. `folder` must lie under
    allowed_roots() (ConfigError otherwise)."""
    folder = confine(folder)
    if (folder / "outputs.jsonl").is_file():
        return {folder.name: str(folder)}
    if not folder.is_dir():
        return {}
    return {p.name: str(p.resolve()) for p in sorted(folder.iterdir()) if (p / "outputs.jsonl").is_file()}


@st.cache_data(show_spinner=False)
def demo_personas() -> dict[str, list[str]]:
    """Dialogue id -> persona of the shipped demo examples."""
    return {ex.dialogue_id or ex.id: list(ex.persona) for ex in data.load_examples(data.demo_examples_path())}


@st.cache_resource(show_spinner="Loading the model (the first time takes a while)...", max_entries=MAX_CACHED_MODELS)
def _cached_language_model(name_or_path: str):
    from pal_core.inference import models

    return models.load_lm(name_or_path or None)


def language_model(name_or_path: str):
    """(model, tokenizer) in eval mode, shared read-only by every session: `name_or_path` is confined by
    confine_model() on every call (ConfigError), then cached under the resolved path, at most MAX_CACHED_MODELS."""
    return _cached_language_model(confine_model(name_or_path))

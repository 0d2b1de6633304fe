"""Files uploaded from the browser, checked on their bytes by the same code as the CLI before anything is kept: a
run's responses JSONL by db.imports.read_responses and its config.json by db.imports.check_run_config, a dialogue file
by pal_core.data.loaders.load_examples. Errors name the uploaded file and line (`outputs.jsonl:3: expected ...`). A
run is kept as a run directory under .pal/uploads/ (so the Inspector and Leaderboard can read it) and imported in one
transaction; a dialogue file is kept under .pal/data/."""

import re
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

import formats
from db.errors import ImportFormatError
from db.imports import check_run_config, import_checked_run, read_responses
from pal_core import data
from pal_core.errors import DataFormatError

UPLOADS_DIR = Path(".pal") / "uploads"  # relative to the app's working directory, an allowed root (ui.resources)
DATA_DIR = Path(".pal") / "data"
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_NAME = 64  # characters of the system name kept in the upload's folder name


def _safe_name(name: str) -> str:
    """A file or folder name made of letters, digits, dot, dash and underscore (never a path)."""
    return _SAFE.sub("_", Path(name).name).strip("._") or "upload"


def import_uploaded_run(
    session: Session,
    *,
    actor: str,
    outputs_name: str,
    outputs: bytes,
    system_name: str,
    config: bytes | None = None,
    config_name: str = "config.json",
    uploads_dir: Path = UPLOADS_DIR,
) -> dict:
    """Check an uploaded outputs.jsonl and config.json on their bytes, with the checks `pal import-run` runs
    (db.imports.read_responses, check_run_config; errors name the uploaded files), then keep them as a run directory
    and import it as `system_name` (default the config's "system"; admin) in the caller's transaction. Nothing is
    written before both files pass; on any later error nothing is kept. Returns import_run's dict."""
    rows = read_responses(outputs, name=outputs_name)
    settings, name, model = check_run_config(
        config if config is not None else b"{}", name=config_name, system_name=system_name
    )
    settings = {**settings, "system": name}  # the kept config says which system it is
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
    run_dir = uploads_dir / f"{stamp}-{_safe_name(name)[:MAX_NAME]}"
    run_dir.mkdir(parents=True)
    try:
        (run_dir / formats.OUTPUTS_FILE).write_bytes(outputs)
        formats.write_json(run_dir / formats.CONFIG_FILE, settings, error=ImportFormatError)
        return import_checked_run(
            session,
            actor=actor,
            name=name,
            model=model,
            config=settings,
            rows=rows,
            run_dir=run_dir.resolve(),
            source=outputs_name,
        )
    except BaseException:
        shutil.rmtree(run_dir, ignore_errors=True)  # the store call wrote nothing either (one transaction)
        raise


def keep_uploaded_dialogues(name: str, content: bytes, *, data_dir: Path = DATA_DIR) -> tuple[Path, data.DataStats]:
    """Check an uploaded dialogue file (any format `pal data` reads, gzip too) and keep it under `data_dir`;
    returns (kept path, stats). Errors are DataFormatError naming the upload and line; nothing is kept then."""
    safe = _safe_name(name)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / safe
        path.write_bytes(content)
        try:
            examples = data.load_examples(path)
        except DataFormatError as e:
            raise DataFormatError(str(e).replace(str(path), name)) from e  # the user's file name, not our temp path
        target = data_dir / safe
        if target.exists():
            raise DataFormatError(
                f"{name}: expected a new file name, got {safe!r}, which is already kept in {data_dir}"
            )
        data_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return target, data.compute_stats(examples)

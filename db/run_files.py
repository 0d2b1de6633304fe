"""The files of a run directory (docs/interfaces.md), read and validated before anything reaches the database:
`read_responses` (outputs.jsonl, or the bytes of an upload) and `check_run_config` (config.json, or its upload), the
one check that `pal import-run` and the dashboard's upload share.

The reading and the row schema are the formats package's (formats.read_outputs, formats.OutputRow); this module adds
the columns' limits, so that everything either database would refuse (text with NUL or lone surrogates,
NaN/Infinity, strings longer than their column, out-of-range indices, JSON nested too deep) is refused in Python and
SQLite and PostgreSQL accept exactly the same files. Every refusal is an ImportFormatError `<file>:<line>: expected
..., got ...`. No database access here.
"""

from pathlib import Path
from typing import Any

import formats
from db.errors import ImportFormatError
from db.models import Dialogue, System
from formats import OutputRow, brief
from formats.jsontext import key_pattern, line_of

_ID_LENGTH = Dialogue.__table__.c.external_id.type.length
LIMITS = {
    "id": _ID_LENGTH,
    "dialogue_id": _ID_LENGTH,
    "source": Dialogue.__table__.c.source.type.length,
    "split": Dialogue.__table__.c.split.type.length,
    "turn": 2**31,  # an INTEGER column
}
NAME_LENGTH = System.__table__.c.name.type.length
MODEL_LENGTH = System.__table__.c.model.type.length
_METADATA = ("dialogue_id", "turn", "time_s")  # kept in responses.meta


def read_responses(source: bytes | str | Path, *, name: str | None = None) -> list[OutputRow]:
    """Validate a responses JSONL (the outputs.jsonl schema, gzip too), given as a path or as the bytes of an upload
    (`name` is then what messages call it), and return its rows. Any problem raises ImportFormatError
    `<file>:<line>: expected ..., got ...`: the CLI's `pal import-run` and the dashboard's upload use this one check.
    """
    return formats.read_outputs(source, name, limits=LIMITS, error=ImportFormatError)


def response_metadata(row: OutputRow) -> dict[str, Any]:
    """What a stored response keeps besides its columns: dialogue_id, turn and time_s when the row has them."""
    return {k: getattr(row, k) for k in _METADATA if getattr(row, k) is not None}


def check_run_config(
    source: bytes | Path, *, name: str | None = None, system_name: str | None = None
) -> tuple[dict, str, str]:
    """(config, system name, model) of a run's config.json, given as a path or as an upload's bytes called `name` in
    messages: strict JSON (BOM dropped, repeated keys, NaN, lone surrogates and nesting deeper than 32 refused), an
    object, and a system name (`system_name`, else config["system"]) and model (config["model"], else "") that fit
    their columns. Errors are ImportFormatError naming `name` (default the path) and the line at fault. Nothing is
    written: `pal import-run` and the dashboard's upload both call this before anything else."""
    name = name or (str(source) if isinstance(source, Path) else "config.json")
    lines = [line for _, line in formats.iter_lines(source, name, error=ImportFormatError, what="a run config")]
    text = "\n".join(lines)
    config = formats.parse_json(text, name, "a JSON object", error=ImportFormatError)
    if not isinstance(config, dict):
        raise ImportFormatError(f"{name}:1: expected a JSON object, got {type(config).__name__}")
    given = isinstance(system_name, str) and bool(system_name.strip())
    system = system_name if given else config.get("system")
    where = "system_name" if given else f"{name}:{line_of(text, key_pattern('system'))}"
    if not isinstance(system, str) or not 0 < len(system.strip()) <= NAME_LENGTH:
        raise ImportFormatError(
            f"{where}: expected 'system' as a string of 1-{NAME_LENGTH} characters, got {brief(system)}"
        )
    model = config.get("model") or ""
    if not isinstance(model, str) or len(model) > MODEL_LENGTH:
        raise ImportFormatError(
            f"{name}:{line_of(text, key_pattern('model'))}: expected 'model' as a string of at most {MODEL_LENGTH} "
            f"characters, got {brief(model)}"
        )
    return config, system.strip(), model

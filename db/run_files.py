"""The files of a run directory (docs/interfaces.md), read and validated before anything reaches the database:
`read_responses` (outputs.jsonl, or the bytes of an upload) and `read_run_config` (config.json).

They refuse, in Python, everything either database would refuse (text with NUL or lone surrogates, NaN/Infinity,
strings longer than their column, out-of-range indices, JSON nested too deep), so SQLite and PostgreSQL accept exactly
the same files; every refusal is an ImportFormatError `<file>:<line>: expected ..., got ...`. No database access here;
the strict JSON and text layer is db/strict_json.py.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from db.errors import ImportFormatError
from db.models import Dialogue, System
from db.strict_json import brief, decoded_lines, key_pattern, line_of, parse_json

_ID_LENGTH = Dialogue.__table__.c.external_id.type.length
_SOURCE_LENGTH = Dialogue.__table__.c.source.type.length
_SPLIT_LENGTH = Dialogue.__table__.c.split.type.length
NAME_LENGTH = System.__table__.c.name.type.length
MODEL_LENGTH = System.__table__.c.model.type.length


@dataclass(frozen=True)
class ResponseRow:
    """One validated line of a responses JSONL."""

    external_id: str
    persona: list[str]
    partner_persona: list[str]
    history: list[str]
    reference: str
    gold_label: list[int] | None
    source: str
    split: str
    response: str
    selected_index: int | None
    selected_sentence: str | None
    scores: list[float] | None
    contradiction: list[float] | None
    metadata: dict[str, Any]
    line: int  # where it came from, for messages about it


def _field(row: dict, where: str, name: str, check, what: str, *, required: bool = True, default: Any = None) -> Any:
    if name not in row or (row[name] is None and not required):
        if required:
            raise ImportFormatError(f"{where}: expected {name!r} as {what}, got nothing")
        return default
    value = row[name]
    if not check(value):
        raise ImportFormatError(f"{where}: expected {name!r} as {what}, got {brief(value)}")
    return value


def _is_str_list(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _num_list(n: int):
    return lambda v: isinstance(v, list) and len(v) == n and all(map(_is_number, v))


def _short_str(limit: int):
    return lambda v: isinstance(v, str) and len(v) <= limit


def _is_label(n_persona: int):
    def check(v: Any) -> bool:
        if not isinstance(v, list) or not v or not all(map(_is_int, v)):
            return False
        return v == [-1] or (len(set(v)) == len(v) and all(0 <= i < n_persona for i in v))

    return check


def _parse_line(line: str, name: str, lineno: int) -> ResponseRow:
    where = f"{name}:{lineno}"
    row = parse_json(line, name, lineno, "a JSON object")
    if not isinstance(row, dict):
        raise ImportFormatError(f"{where}: expected a JSON object, got {type(row).__name__}")
    external_id = _field(
        row,
        where,
        "id",
        lambda v: (isinstance(v, str) or _is_int(v)) and 0 < len(str(v)) <= _ID_LENGTH,
        f"a string or int of 1-{_ID_LENGTH} characters",
    )
    persona = _field(row, where, "persona", _is_str_list, "a list of strings")
    n = len(persona)
    return ResponseRow(
        external_id=str(external_id),
        persona=persona,
        partner_persona=_field(
            row, where, "partner_persona", _is_str_list, "a list of strings", required=False, default=[]
        ),
        history=_field(row, where, "history", _is_str_list, "a list of strings"),
        reference=_field(
            row, where, "reference", lambda v: isinstance(v, str), "a string", required=False, default=""
        ),
        gold_label=_field(
            row,
            where,
            "gold_label",
            _is_label(n),
            f"[-1] or distinct persona indices in 0..{n - 1}, or null",
            required=False,
        ),
        source=_field(
            row,
            where,
            "source",
            _short_str(_SOURCE_LENGTH),
            f"a string of at most {_SOURCE_LENGTH} characters",
            required=False,
            default="",
        ),
        split=_field(
            row,
            where,
            "split",
            _short_str(_SPLIT_LENGTH),
            f"a string of at most {_SPLIT_LENGTH} characters",
            required=False,
            default="",
        ),
        response=_field(row, where, "response", lambda v: isinstance(v, str), "a string"),
        selected_index=_field(
            row,
            where,
            "selected_index",
            lambda v: _is_int(v) and -1 <= v < n,
            f"an int in -1..{n - 1} (-1 = none) or null",
            required=False,
        ),
        selected_sentence=_field(
            row, where, "selected_sentence", lambda v: isinstance(v, str), "a string or null", required=False
        ),
        scores=_field(
            row,
            where,
            "scores",
            _num_list(n + 1),
            f"{n + 1} numbers (one per persona sentence, then none) or null",
            required=False,
        ),
        contradiction=_field(
            row,
            where,
            "contradiction",
            _num_list(n),
            f"{n} numbers (one per persona sentence) or null",
            required=False,
        ),
        line=lineno,
        metadata={
            "dialogue_id": _field(row, where, "dialogue_id", _short_str(_ID_LENGTH), "a string", required=False),
            "turn": _field(row, where, "turn", lambda v: _is_int(v) and 0 <= v < 2**31, "an int >= 0", required=False),
            "time_s": _field(
                row, where, "time_s", lambda v: _is_number(v) and v >= 0, "a number >= 0", required=False
            ),
        },
    )


def read_responses(source: bytes | str | Path, *, name: str | None = None) -> list[ResponseRow]:
    """Validate a responses JSONL (the outputs.jsonl schema, gzip too), given as a path or as the bytes of an upload
    (`name` is then what messages call it), and return its rows. Any problem raises ImportFormatError
    `<file>:<line>: expected ..., got ...`: the CLI's `pal import-run` and the dashboard's upload use this one check.
    """
    if not isinstance(source, bytes):
        source = Path(source)
        if not source.is_file():
            got = "a directory" if source.is_dir() else "no such file"
            raise ImportFormatError(f"{source.resolve()}: expected a responses JSONL file, got {got}")
    name = name or (str(source) if isinstance(source, Path) else "<upload>")
    rows, first_line = [], {}
    for lineno, line in decoded_lines(source, name):
        if not line.strip():
            continue
        where = f"{name}:{lineno}"
        row = _parse_line(line, name, lineno)
        if row.external_id in first_line:
            raise ImportFormatError(
                f"{where}: expected a unique 'id', got duplicate {row.external_id!r} "
                f"(also on line {first_line[row.external_id]})"
            )
        first_line[row.external_id] = lineno
        rows.append(row)
    if not rows:
        raise ImportFormatError(f"{name}:1: expected at least one response line, got an empty file")
    row_metadata = [{k: v for k, v in r.metadata.items() if v is not None} for r in rows]
    return [_with_metadata(r, m) for r, m in zip(rows, row_metadata, strict=True)]


def _with_metadata(row: ResponseRow, metadata: dict) -> ResponseRow:
    return ResponseRow(**{**row.__dict__, "metadata": metadata})


def read_run_config(path: Path) -> dict:
    """A run's config.json as a dict, validated like the responses (storable text, finite numbers, shallow)."""
    if not path.is_file():
        raise ImportFormatError(f"{path.resolve()}: expected a run config, got no such file")
    text = "\n".join(line for _, line in decoded_lines(path, str(path)))
    config = parse_json(text, str(path), 1, "a JSON object")
    if not isinstance(config, dict):
        raise ImportFormatError(f"{path}:1: expected a JSON object, got {type(config).__name__}")
    return config


def run_system_and_model(config_path: Path, config: dict, system_name: str | None) -> tuple[str, str]:
    """The system name (`system_name`, else config["system"]) and model (config["model"], else "") of a run,
    checked against their columns; errors name the line of the config key."""
    name = system_name or config.get("system")
    if not isinstance(name, str) or not 0 < len(name.strip()) <= NAME_LENGTH:
        raise ImportFormatError(
            f"{_key_where(config_path, 'system')}: expected 'system' as a string of 1-{NAME_LENGTH} characters, "
            f"got {brief(name)}"
        )
    model = config.get("model") or ""
    if not isinstance(model, str) or len(model) > MODEL_LENGTH:
        raise ImportFormatError(
            f"{_key_where(config_path, 'model')}: expected 'model' as a string of at most {MODEL_LENGTH} characters, "
            f"got {brief(model)}"
        )
    return name, model


def _key_where(path: Path, key: str) -> str:
    return f"{path}:{line_of(path.read_text(encoding='utf-8', errors='replace'), key_pattern(key))}"

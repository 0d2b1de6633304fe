"""The files of a run directory (docs/interfaces.md), read and validated before anything reaches the database:
`read_responses` (outputs.jsonl, or the bytes of an upload) and `read_run_config` (config.json).

They refuse, in Python, everything either database would refuse (text with NUL or lone surrogates, NaN/Infinity,
strings longer than their column, out-of-range indices, JSON nested too deep), so SQLite and PostgreSQL accept exactly
the same files; every refusal is an ImportFormatError `<file>:<line>: expected ..., got ...`. No database access here.
"""

import gzip
import io
import json
import math
import re
import reprlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from db.errors import ImportFormatError
from db.models import Dialogue, System

MAX_JSON_DEPTH = 32  # deeper JSON is refused (our files nest 3 levels; PostgreSQL's parser has a stack limit)
_ID_LENGTH = Dialogue.__table__.c.external_id.type.length
_SOURCE_LENGTH = Dialogue.__table__.c.source.type.length
_SPLIT_LENGTH = Dialogue.__table__.c.split.type.length
NAME_LENGTH = System.__table__.c.name.type.length
MODEL_LENGTH = System.__table__.c.model.type.length
_BRIEF = reprlib.Repr()
_BRIEF.maxlevel, _BRIEF.maxstring, _BRIEF.maxother, _BRIEF.maxlist = 3, 60, 60, 6


def brief(value: Any) -> str:
    """A short repr for messages, safe on huge or deeply nested values."""
    return _BRIEF.repr(value)


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


class UnstorableValueError(ValueError):
    """A JSON value both databases cannot store; `pattern` finds it in the text (to name its line)."""

    def __init__(self, message: str, pattern: str, nth: int = 1) -> None:
        super().__init__(message)
        self.pattern, self.nth = pattern, nth


def _reject_constant(name: str) -> Any:
    raise UnstorableValueError(f"{name}, which is not a JSON number", rf'(?<![\w"]){re.escape(name)}(?![\w"])')


def _finite_float(text: str) -> float:
    if not math.isfinite(value := float(text)):
        raise UnstorableValueError(f"the number {text[:20]}, which is out of range", re.escape(text))
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict:
    if len(row := dict(pairs)) != len(pairs):
        seen: set[str] = set()
        key = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise UnstorableValueError(f"the key {key!r} twice in one object", _key(key), nth=2)
    return row


_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float, object_pairs_hook=_unique_keys)


def _deep_line(text: str) -> int:
    """The line on which JSON `text` first nests deeper than MAX_JSON_DEPTH (1 if it never does)."""
    depth, line, in_string, escaped = 0, 1, False, False
    for ch in text:
        if in_string:
            escaped, in_string = (False, True) if escaped else (ch == "\\", ch != '"')
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return line
        elif ch in "]}":
            depth -= 1
        line += ch == "\n"
    return 1


def _key(name: str) -> str:
    """A pattern matching `"name":` (an object key) in JSON text."""
    return re.escape(json.dumps(name)) + r"\s*:"


def _line_of(text: str, pattern: str, nth: int = 1) -> int:
    """The line of the nth match of `pattern` in `text` (1 if there is none)."""
    matches = [m.start() for m in re.finditer(pattern, text)]
    return text.count("\n", 0, matches[nth - 1]) + 1 if len(matches) >= nth else 1


def check_storable(value: Any) -> None:
    """Strings hold storable text (no NUL, no lone surrogate: UnstorableValueError) and nothing nests deeper than
    MAX_JSON_DEPTH (RecursionError, as when the parser itself runs out of stack)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\0" in item:
                raise UnstorableValueError(f"text with a NUL character: {brief(item)}", r"\\u0000")
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as e:
                raise UnstorableValueError(f"a lone surrogate in {brief(item)}", r"\\u[dD][89a-fA-F]") from e
        elif isinstance(item, float) and not math.isfinite(item):
            raise UnstorableValueError(f"{item}, which is not a JSON number", r"(?<![\w\"])-?(NaN|Infinity)(?![\w\"])")
        elif isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise RecursionError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
            children = [*item, *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)


def _parse_json(text: str, path: str, line: int, what: str) -> Any:
    """A JSON document starting on `line` of `path`; every way it can fail is an ImportFormatError
    `<path>:<line of the fault>: expected <what>, got ...`."""
    try:
        value = _DECODER.decode(text)
        check_storable(value)
        return value
    except json.JSONDecodeError as e:
        where, got = f"{path}:{line + e.lineno - 1}", f"invalid JSON ({e.msg}, column {e.colno})"
    except RecursionError:
        where, got = f"{path}:{line + _deep_line(text) - 1}", f"JSON nested deeper than {MAX_JSON_DEPTH} levels"
    except UnstorableValueError as e:
        where, got = f"{path}:{line + _line_of(text, e.pattern, e.nth) - 1}", str(e)
    except ValueError as e:  # an integer over Python's digit limit
        where, got = f"{path}:{line}", str(e)
    raise ImportFormatError(f"{where}: expected {what}, got {got}")


def _decoded_lines(source: bytes | Path, name: str) -> Iterator[tuple[int, str]]:
    """(1-based line number, text) of a file or an upload, gunzipped when its first bytes say gzip; lines are split
    before decoding, so a bad byte is reported on its own line."""
    with io.BytesIO(source) if isinstance(source, bytes) else source.open("rb") as raw:
        stream = gzip.GzipFile(fileobj=raw, mode="rb") if raw.read(2) == b"\x1f\x8b" else raw
        raw.seek(0)
        lineno = 0
        try:
            for lineno, line in enumerate(stream, start=1):
                where = f"{name}:{lineno}"
                try:
                    text = line.decode("utf-8").rstrip("\r\n")
                except UnicodeDecodeError as e:
                    raise ImportFormatError(
                        f"{where}: expected UTF-8 text, got byte 0x{line[e.start]:02x} at column {e.start + 1}"
                    ) from e
                if "\0" in text:
                    raise ImportFormatError(
                        f"{where}: expected text, got a NUL byte at column {text.index(chr(0)) + 1}"
                    )
                yield lineno, text.removeprefix("\ufeff") if lineno == 1 else text
        except (OSError, EOFError, zlib.error) as e:
            raise ImportFormatError(f"{name}:{lineno + 1}: expected a complete gzip stream, got {e}") from e


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
    row = _parse_json(line, name, lineno, "a JSON object")
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
    for lineno, line in _decoded_lines(source, name):
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
    text = "\n".join(line for _, line in _decoded_lines(path, str(path)))
    config = _parse_json(text, str(path), 1, "a JSON object")
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
    return f"{path}:{_line_of(path.read_text(encoding='utf-8', errors='replace'), _key(key))}"

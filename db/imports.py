"""Import systems' responses: a `pal evaluate` run directory or a bare responses JSONL (docs/interfaces.md).

`read_responses` validates a whole file (a path, or the bytes of an upload) before anything is added, so a malformed
file writes nothing. It refuses, in Python, everything either database would refuse (text with NUL or lone
surrogates, NaN/Infinity, strings longer than their column, out-of-range indices, JSON nested too deep), so SQLite
and PostgreSQL accept exactly the same files.
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

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.errors import ImportFormatError, NotFoundError, StoreError
from db.models import Dialogue, Response, System
from db.users import audit, require_role

METADATA_FIELDS = ("dialogue_id", "turn", "time_s")
MAX_JSON_DEPTH = 32  # deeper JSON is refused (our files nest 3 levels; PostgreSQL's parser has a stack limit)
_ID_LENGTH = Dialogue.__table__.c.external_id.type.length
_SOURCE_LENGTH = Dialogue.__table__.c.source.type.length
_SPLIT_LENGTH = Dialogue.__table__.c.split.type.length
_NAME_LENGTH = System.__table__.c.name.type.length
_MODEL_LENGTH = System.__table__.c.model.type.length
_BRIEF = reprlib.Repr()
_BRIEF.maxlevel, _BRIEF.maxstring, _BRIEF.maxother, _BRIEF.maxlist = 3, 60, 60, 6


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


class _ValueError(ValueError):
    """A JSON value both databases cannot store; `pattern` finds it in the text (to name its line)."""

    def __init__(self, message: str, pattern: str, nth: int = 1) -> None:
        super().__init__(message)
        self.pattern, self.nth = pattern, nth


def _reject_constant(name: str) -> Any:
    raise _ValueError(f"{name}, which is not a JSON number", rf'(?<![\w"]){re.escape(name)}(?![\w"])')


def _finite_float(text: str) -> float:
    if not math.isfinite(value := float(text)):
        raise _ValueError(f"the number {text[:20]}, which is out of range", re.escape(text))
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict:
    if len(row := dict(pairs)) != len(pairs):
        seen: set[str] = set()
        key = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise _ValueError(f"the key {key!r} twice in one object", _key(key), nth=2)
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


def _check_value(value: Any) -> None:
    """Strings hold storable text (no NUL, no lone surrogate: _ValueError) and nothing nests deeper than
    MAX_JSON_DEPTH (RecursionError, as when the parser itself runs out of stack)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\0" in item:
                raise _ValueError(f"text with a NUL character: {_BRIEF.repr(item)}", r"\\u0000")
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as e:
                raise _ValueError(f"a lone surrogate in {_BRIEF.repr(item)}", r"\\u[dD][89a-fA-F]") from e
        elif isinstance(item, float) and not math.isfinite(item):
            raise _ValueError(f"{item}, which is not a JSON number", r"(?<![\w\"])-?(NaN|Infinity)(?![\w\"])")
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
        _check_value(value)
        return value
    except json.JSONDecodeError as e:
        where, got = f"{path}:{line + e.lineno - 1}", f"invalid JSON ({e.msg}, column {e.colno})"
    except RecursionError:
        where, got = f"{path}:{line + _deep_line(text) - 1}", f"JSON nested deeper than {MAX_JSON_DEPTH} levels"
    except _ValueError as e:
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
        raise ImportFormatError(f"{where}: expected {name!r} as {what}, got {_BRIEF.repr(value)}")
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


def _write_system(
    session: Session,
    *,
    actor: str | None,
    name: str,
    model: str,
    config: dict,
    run_dir: str,
    rows: list[ResponseRow],
    source: Path,
) -> dict:
    if session.scalars(select(System.id).where(System.name == name)).first() is not None:
        raise StoreError(f"system_name: expected a new system name, got existing {name!r}")
    ids = [r.external_id for r in rows]
    existing: dict[str, Dialogue] = {}
    for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
        chunk = ids[start : start + 500]
        existing.update(
            {d.external_id: d for d in session.scalars(select(Dialogue).where(Dialogue.external_id.in_(chunk)))}
        )
    for r in rows:
        old = existing.get(r.external_id)
        if old is not None and (old.persona != r.persona or old.history != r.history):
            raise ImportFormatError(
                f"{source}:{r.line}: expected the persona and history already stored for id {r.external_id!r}, "
                "got different ones"
            )
    system = System(name=name, model=model, config=config, run_dir=run_dir)
    session.add(system)
    n_new = 0
    for r in rows:
        dialogue = existing.get(r.external_id)
        if dialogue is None:
            dialogue = Dialogue(
                external_id=r.external_id,
                persona=r.persona,
                partner_persona=r.partner_persona,
                history=r.history,
                reference=r.reference,
                gold_label=r.gold_label,
                source=r.source or str(config.get("data", "")),
                split=r.split,
            )
            session.add(dialogue)
            n_new += 1
        session.add(
            Response(
                dialogue=dialogue,
                system=system,
                text=r.response,
                selected_index=r.selected_index,
                selected_sentence=r.selected_sentence,
                scores=r.scores,
                contradiction=r.contradiction,
                meta=r.metadata,
            )
        )
    session.flush()
    audit(session, actor, "import_system", name, source=str(source), n_responses=len(rows), n_new_dialogues=n_new)
    return {"system": name, "system_id": system.id, "n_responses": len(rows), "n_new_dialogues": n_new}


def register_system(
    session: Session,
    *,
    actor: str | None,
    name: str,
    model: str,
    config: dict,
    run_dir: str | Path | None = None,
) -> dict:
    """Add a system (admin), e.g. a model just trained: `model` is its name or checkpoint path, `config` how it was
    made. With `run_dir`, its <run_dir>/outputs.jsonl responses are imported too (all or nothing); without, the
    system has no responses yet. Returns {"system", "system_id", "n_responses", "n_new_dialogues"}."""
    require_role(session, actor, "admin", allow_cli=True)
    if not isinstance(name, str) or not 0 < len(name.strip()) <= _NAME_LENGTH:
        raise StoreError(f"name: expected 1-{_NAME_LENGTH} characters, got {_BRIEF.repr(name)}")
    if not isinstance(model, str) or len(model) > _MODEL_LENGTH:
        raise StoreError(f"model: expected a string of at most {_MODEL_LENGTH} characters, got {_BRIEF.repr(model)}")
    if not isinstance(config, dict):
        raise StoreError(f"config: expected a dict, got {type(config).__name__}")
    try:
        _check_value([name, model, config])
    except (_ValueError, RecursionError) as e:
        raise StoreError(f"name, model, config: expected values both databases store, got {e}") from None
    rows, source = [], Path(name.strip())
    if run_dir is not None:
        source = Path(run_dir) / "outputs.jsonl"
        rows = read_responses(source)
    return _write_system(
        session,
        actor=actor,
        name=name.strip(),
        model=model,
        config=config,
        run_dir=str(Path(run_dir).resolve()) if run_dir is not None else "",
        rows=rows,
        source=source,
    )


def import_run(session: Session, *, actor: str | None, run_dir: str | Path, system_name: str | None = None) -> dict:
    """Import <run_dir>/config.json + outputs.jsonl as one system (admin). Nothing is written if any line is bad.

    Returns {"system", "system_id", "n_responses", "n_new_dialogues"}. The name defaults to config["system"].
    """
    require_role(session, actor, "admin", allow_cli=True)
    run_dir = Path(run_dir)
    config_path = run_dir / "config.json"
    config = read_run_config(config_path)
    name = system_name or config.get("system")
    if not isinstance(name, str) or not 0 < len(name.strip()) <= _NAME_LENGTH:
        where = f"{config_path}:{_line_of(config_path.read_text(errors='replace'), _key('system'))}"
        raise ImportFormatError(
            f"{where}: expected 'system' as a string of 1-{_NAME_LENGTH} characters, got {_BRIEF.repr(name)}"
        )
    model = config.get("model") or ""
    if not isinstance(model, str) or len(model) > _MODEL_LENGTH:
        where = f"{config_path}:{_line_of(config_path.read_text(errors='replace'), _key('model'))}"
        raise ImportFormatError(
            f"{where}: expected 'model' as a string of at most {_MODEL_LENGTH} characters, got {_BRIEF.repr(model)}"
        )
    return register_system(session, actor=actor, name=name, model=model, config=config, run_dir=run_dir)


def import_responses_jsonl(
    session: Session,
    *,
    actor: str | None,
    path: str | Path | bytes,
    system_name: str,
    model: str = "",
    name: str | None = None,
) -> dict:
    """Import a responses JSONL (the outputs.jsonl schema; a path, or an upload's bytes called `name` in messages)
    as system `system_name` (admin). Same return as import_run."""
    require_role(session, actor, "admin", allow_cli=True)
    if not isinstance(system_name, str) or not 0 < len(system_name.strip()) <= _NAME_LENGTH:
        raise StoreError(f"system_name: expected 1-{_NAME_LENGTH} characters, got {_BRIEF.repr(system_name)}")
    if not isinstance(model, str) or len(model) > _MODEL_LENGTH:
        raise StoreError(f"model: expected a string of at most {_MODEL_LENGTH} characters, got {_BRIEF.repr(model)}")
    rows = read_responses(path, name=name)
    source = Path(name or "<upload>") if isinstance(path, bytes) else Path(path)
    return _write_system(
        session, actor=actor, name=system_name.strip(), model=model, config={}, run_dir="", rows=rows, source=source
    )


def get_system(session: Session, name: str) -> System:
    system = session.scalars(select(System).where(System.name == name)).one_or_none()
    if system is None:
        known = ", ".join(session.scalars(select(System.name).order_by(System.name))) or "none"
        raise NotFoundError(f"system: expected one of the imported systems ({known}), got {name!r}")
    return system


def list_systems(session: Session, *, actor: str) -> list[dict]:
    """[{"id", "name", "model", "config", "run_dir", "n_responses", "created_at"}] sorted by name (any role)."""
    require_role(session, actor, "viewer")
    counts = dict(session.execute(select(Response.system_id, func.count()).group_by(Response.system_id)).all())
    return [
        {
            "id": s.id,
            "name": s.name,
            "model": s.model,
            "config": s.config,
            "run_dir": s.run_dir,
            "n_responses": counts.get(s.id, 0),
            "created_at": s.created_at,
        }
        for s in session.scalars(select(System).order_by(System.name))
    ]

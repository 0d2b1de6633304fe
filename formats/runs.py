"""A run directory (docs/interfaces.md): config.json, outputs.jsonl (one `OutputRow` a line) and metrics.json, read
strictly by `read_run` / `read_outputs` and written by `write_run`, each file once and atomically. `pal evaluate`
writes it, `pal rescore` rewrites outputs and metrics, the store imports it and the dashboard shows it."""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from formats.jsontext import FormatError
from formats.rows import Limits, OutputRow
from formats.textio import check_file, iter_json_lines, open_write, read_json_object

CONFIG_FILE, OUTPUTS_FILE, METRICS_FILE = "config.json", "outputs.jsonl", "metrics.json"
Error = type[ValueError]


@dataclass
class Run:
    """A run directory's contents; `config` and `metrics` are {} when their file is missing."""

    rows: list[OutputRow]
    config: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)


def read_outputs(
    source: str | Path | bytes, name: str | None = None, *, limits: Limits | None = None, error: Error = FormatError
) -> list[OutputRow]:
    """The rows of an outputs.jsonl (gzip too), given as a path or as an upload's bytes (`name` is then what messages
    call it). Each line is checked by `OutputRow.from_dict`; ids are unique and there is at least one row. Every
    refusal raises `error` `<file>:<line>: expected ..., got ...`."""
    if not isinstance(source, bytes):
        source = Path(source)
        check_file(source, "a responses JSONL file", error)
    name = name or (str(source) if isinstance(source, Path) else "<upload>")
    rows: list[OutputRow] = []
    first_line: dict[str, int] = {}
    for where, lineno, obj in iter_json_lines(source, name, error=error):
        row = OutputRow.from_dict(obj, where, line=lineno, limits=limits, error=error)
        if row.id in first_line:
            raise error(
                f"{where}: expected a unique 'id', got duplicate {row.id!r} (also on line {first_line[row.id]})"
            )
        first_line[row.id] = lineno
        rows.append(row)
    if not rows:
        raise error(f"{name}:1: expected at least one response line, got an empty file")
    return rows


def read_run(path: str | Path, *, error: Error = FormatError) -> Run:
    """config.json, outputs.jsonl and metrics.json of a run directory; a missing outputs.jsonl is an error, a missing
    config or metrics file reads as {}."""
    path = Path(path)
    check_file(path / OUTPUTS_FILE, "a run directory with outputs.jsonl", error)
    parts = {
        name: read_json_object(path / file, str(path / file), error=error) if (path / file).is_file() else {}
        for name, file in (("config", CONFIG_FILE), ("metrics", METRICS_FILE))
    }
    return Run(rows=read_outputs(path / OUTPUTS_FILE, error=error), **parts)


def _dump(value: Any, path: Path, error: Error, **kw: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, **kw)
    except ValueError as e:
        raise error(f"{path}: expected values JSON can hold, got {e}") from e


def write_json(path: str | Path, value: Any, *, error: Error = FormatError) -> None:
    """One JSON document (indented), written atomically; NaN/Infinity are refused, as the readers refuse them."""
    path = Path(path)
    text = _dump(value, path, error, indent=2) + "\n"
    with open_write(path, error=error) as f:
        f.write(text)


def write_run(
    path: str | Path,
    config: dict | None = None,
    rows: list[OutputRow] | None = None,
    metrics: dict | None = None,
    *,
    error: Error = FormatError,
) -> None:
    """Write the given parts of a run directory (None = leave that file as it is), each once and atomically (temp
    file + fsync + rename): outputs.jsonl first, then config.json, then metrics.json."""
    path = Path(path)
    if rows is not None:
        lines = [_dump(row.to_dict(), path / OUTPUTS_FILE, error) + "\n" for row in rows]
        with open_write(path / OUTPUTS_FILE, error=error) as f:
            f.writelines(lines)
    if config is not None:
        write_json(path / CONFIG_FILE, config, error=error)
    if metrics is not None:
        write_json(path / METRICS_FILE, metrics, error=error)

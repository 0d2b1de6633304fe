"""The strict JSON and text layer under the run-file readers: gzip-sniffing UTF-8 lines of a file or an upload, one
JSON decoder that refuses what either database cannot store (NaN/Infinity, duplicate keys, NUL, lone surrogates,
nesting deeper than MAX_JSON_DEPTH), and the line of the fault for every refusal (`<file>:<line>: expected ...`).
"""

import gzip
import io
import json
import math
import re
import reprlib
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from db.errors import ImportFormatError

MAX_JSON_DEPTH = 32  # deeper JSON is refused (our files nest 3 levels; PostgreSQL's parser has a stack limit)
_BRIEF = reprlib.Repr()
_BRIEF.maxlevel, _BRIEF.maxstring, _BRIEF.maxother, _BRIEF.maxlist = 3, 60, 60, 6


def brief(value: Any) -> str:
    """A short repr for messages, safe on huge or deeply nested values."""
    return _BRIEF.repr(value)


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
        raise UnstorableValueError(f"the key {key!r} twice in one object", key_pattern(key), nth=2)
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


def key_pattern(name: str) -> str:
    """A pattern matching `"name":` (an object key) in JSON text."""
    return re.escape(json.dumps(name)) + r"\s*:"


def line_of(text: str, pattern: str, nth: int = 1) -> int:
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


def parse_json(text: str, path: str, line: int, what: str) -> Any:
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
        where, got = f"{path}:{line + line_of(text, e.pattern, e.nth) - 1}", str(e)
    except ValueError as e:  # an integer over Python's digit limit
        where, got = f"{path}:{line}", str(e)
    raise ImportFormatError(f"{where}: expected {what}, got {got}")


def decoded_lines(source: bytes | Path, name: str) -> Iterator[tuple[int, str]]:
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

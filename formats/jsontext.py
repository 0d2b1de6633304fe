"""The one strict JSON decoder: it refuses what either database cannot store or Python cannot read back exactly
(NaN/Infinity, numbers out of range, repeated keys, NUL or lone surrogates in strings, nesting deeper than MAX_DEPTH)
and names the line of the fault: `<file>:<line>: expected <what>, got ...`, raised as the caller's error class.
"""

import json
import math
import re
import reprlib
from typing import Any

MAX_DEPTH = 32  # deeper JSON is refused (our files nest 3 levels; PostgreSQL's parser has a stack limit)


class FormatError(ValueError):
    """A file or upload is malformed: the message names `<file>:<line>`, the field and what was expected.
    `pal_core.errors.DataFormatError` and `db.errors.ImportFormatError` are FormatErrors; readers take the class to
    raise (`error=`), so each caller keeps its own."""


_BRIEF = reprlib.Repr()
_BRIEF.maxlevel, _BRIEF.maxstring, _BRIEF.maxother, _BRIEF.maxlist, _BRIEF.maxdict = 3, 60, 60, 6, 4
_SPACE = re.compile(r"[ \t\n\r]*")
# Escapes that decode to a NUL or half of a surrogate pair, and raw surrogates (possible only in text not read from
# UTF-8): only a value whose text holds one gets the full string check.
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
_RAW_SURROGATE = re.compile(r"[\ud800-\udfff]")


def brief(value: object) -> str:
    """A short repr for messages, safe on huge or deeply nested values."""
    return _BRIEF.repr(value)


class UnstorableValueError(ValueError):
    """A value both databases cannot store; `pattern` finds it in JSON text (to name its line), None for nesting."""

    def __init__(self, message: str, pattern: str | None, nth: int = 1) -> None:
        super().__init__(message)
        self.pattern, self.nth = pattern, nth


def key_pattern(name: str) -> str:
    """A pattern matching `"name":` (an object key) in JSON text."""
    return re.escape(json.dumps(name)) + r"\s*:"


def line_of(text: str, pattern: str, nth: int = 1, start: int = 0) -> int:
    """The 1-based line of the nth match of `pattern` in `text` from `start` (the line of `start` if none)."""
    pos = start
    for i, m in enumerate(re.finditer(pattern, text[start:]), start=1):
        if i == nth:
            pos = start + m.start()
            break
    return text.count("\n", 0, pos) + 1


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
        raise UnstorableValueError(f"the key {brief(key)} twice in one object", key_pattern(key), nth=2)
    return row


_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float, object_pairs_hook=_unique_keys)
_TOO_DEEP = f"JSON nested deeper than {MAX_DEPTH} levels"


def check_storable(value: Any) -> None:
    """UnstorableValueError unless every string is storable text (no NUL, no lone surrogate), every float finite and
    nothing nests deeper than MAX_DEPTH: what both databases store."""
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
            if depth > MAX_DEPTH:
                raise UnstorableValueError(_TOO_DEEP, None)
            children = [*item, *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)


def _deep_line(text: str, start: int) -> int:
    """The 1-based line on which the JSON at `text[start:]` first nests deeper than MAX_DEPTH."""
    depth, line, in_string, escaped = 0, text.count("\n", 0, start) + 1, False, False
    for ch in text[start:]:
        if in_string:
            escaped, in_string = (False, True) if escaped else (ch == "\\", ch != '"')
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return line
        elif ch in "]}":
            depth -= 1
        line += ch == "\n"
    return line


def _suspect(text: str, start: int, end: int) -> bool:
    """Whether `text[start:end]` may hold what check_storable refuses; False for almost every line, cheaply."""
    return bool(
        _SUSPECT_ESCAPE.search(text, start, end)
        or (not text.isascii() and _RAW_SURROGATE.search(text, start, end))
        or text.count("[", start, end) + text.count("{", start, end) > MAX_DEPTH
    )


def decode_json(
    text: str, name: str, what: str, *, start: int = 0, line: int = 1, error: type[ValueError] = FormatError
) -> tuple[Any, int]:
    """(value, end index) of the JSON value at `text[start:]`, where `text` begins on line `line` of file `name`.
    Every refusal raises `error` `<name>:<line of the fault>: expected <what>, got ...`."""
    try:
        value, end = _DECODER.raw_decode(text, start)
        if _suspect(text, start, end):
            check_storable(value)
        return value, end
    except json.JSONDecodeError as e:
        at, got = text.count("\n", 0, e.pos) + 1, f"invalid JSON ({e.msg}, column {e.colno})"
    except RecursionError:
        at, got = _deep_line(text, start), _TOO_DEEP
    except UnstorableValueError as e:
        at = _deep_line(text, start) if e.pattern is None else line_of(text, e.pattern, e.nth, start)
        got = str(e)
    except ValueError as e:  # an integer over Python's digit limit
        at, got = text.count("\n", 0, start) + 1, str(e)
    raise error(f"{name}:{line + at - 1}: expected {what}, got {got}")


def parse_json(text: str, name: str, what: str, *, line: int = 1, error: type[ValueError] = FormatError) -> Any:
    """The one JSON document `text` (a JSON Lines line, or a whole file starting on `line`); see `decode_json`."""
    start = _SPACE.match(text).end()
    value, end = decode_json(text, name, what, start=start, line=line, error=error)
    if (after := _SPACE.match(text, end).end()) != len(text):
        at = line + text.count("\n", 0, after)
        raise error(f"{name}:{at}: expected {what}, got extra data after it at column {end + 1}")
    return value

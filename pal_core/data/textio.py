"""Text files read strictly and written safely: the layer under pal_core.data.loaders's loaders, the preference reader and
the NLI pair reader (all reached through pal_core.data.loaders, which re-exports open_text, open_write and iter_json_lines).

Reading splits lines before decoding (gzip sniffed, BOM dropped), so a bad byte, a NUL or a truncated gzip stream is a
DataFormatError naming its own line; JSON goes through one strict decoder (nesting too deep, NaN/Infinity, numbers out
of range, repeated keys, NUL or lone surrogates in strings). Writing goes to a temporary file renamed into place.
"""

import bisect
import gzip
import io
import json
import os
import re
import reprlib
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from itertools import accumulate
from pathlib import Path
from typing import IO

from pal_core.errors import DataFormatError

_GZIP_MAGIC = b"\x1f\x8b"
# JSON escapes that decode to a NUL or to half of a surrogate pair: only lines holding one get the full string check.
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
_JSON_SPACE = re.compile(r"[ \t\n\r]*")


_BRIEF = reprlib.Repr()
_BRIEF.maxlevel, _BRIEF.maxstring, _BRIEF.maxother, _BRIEF.maxlist, _BRIEF.maxdict = 3, 60, 60, 6, 4


def brief(value: object) -> str:
    """A short repr for error messages, safe on huge or deeply nested values."""
    return _BRIEF.repr(value)


def _check_readable(path: Path) -> None:
    if not path.is_file():
        got = "a directory" if path.is_dir() else "no such file"
        raise DataFormatError(f"{path.resolve()}: expected a data file, got {got}")


def open_text(path: Path) -> IO[str]:
    """A text reader of `path`, gunzipping when its first bytes say gzip (whatever its name); a missing file raises
    DataFormatError. Loaders that report line numbers read through `iter_lines` instead."""
    _check_readable(path)
    with path.open("rb") as raw:
        gzipped = raw.read(2) == _GZIP_MAGIC
    return gzip.open(path, "rt", encoding="utf-8") if gzipped else path.open(encoding="utf-8")


def _raw_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(1-based line number, bytes without the newline), gunzipped when the first bytes say gzip. Lines are split
    before decoding, so a bad byte is reported on its own line, not on the first line of a buffered chunk."""
    _check_readable(path)
    with path.open("rb") as raw:
        stream = gzip.GzipFile(fileobj=raw, mode="rb") if raw.read(2) == _GZIP_MAGIC else raw
        raw.seek(0)
        lineno = 0
        try:
            for lineno, line in enumerate(stream, start=1):
                yield lineno, line.rstrip(b"\r\n")
        except (OSError, EOFError, zlib.error) as e:
            raise DataFormatError(f"{path}:{lineno + 1}: expected a complete gzip stream, got {e}") from e


def _decode(line: bytes, where: str) -> str:
    """UTF-8 text of one line; a bad byte or a NUL raises DataFormatError naming the column."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataFormatError(
            f"{where}: expected UTF-8 text (or gzip of it), got byte 0x{line[e.start]:02x} at column {e.start + 1}"
        ) from e
    if "\0" in text:
        raise DataFormatError(f"{where}: expected text, got a NUL byte at column {text.index(chr(0)) + 1}")
    return text


def iter_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(1-based line number, decoded line without newline); a leading byte-order mark is dropped."""
    for lineno, raw in _raw_lines(path):
        text = _decode(raw, f"{path}:{lineno}")
        yield lineno, text.removeprefix("\ufeff") if lineno == 1 else text


def _check_strings(value: object, where: str) -> None:
    """Every string in a parsed JSON value is storable text: no NUL, no lone surrogate (invalid in UTF-8)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\0" in item:
                raise DataFormatError(f"{where}: expected text without NUL characters, got {brief(item)}")
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as e:
                raise DataFormatError(
                    f"{where}: expected text encodable as UTF-8, got a lone surrogate {item[e.start]!r} in {brief(item)}"
                ) from e
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name}, which is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text[:20]}, which is out of range")
    return value


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    row = dict(pairs)
    if len(row) != len(pairs):
        twice = next(k for i, (k, _) in enumerate(pairs) if any(k == other for other, _ in pairs[:i]))
        raise ValueError(f"the key {brief(twice)} twice in one object")
    return row


_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float, object_pairs_hook=_unique_keys)


def decode_json(text: str, where: str, what: str, start: int = 0, path: Path | None = None) -> tuple[object, int]:
    """(value, end index) of the JSON value at `text[start:]`; every way it can fail is a DataFormatError at
    `where` ("expected <what>, got ..."): invalid JSON (at `path`:<its line> when `text` is a whole file), nesting
    too deep to parse, NaN/Infinity, a number out of range, a repeated key, a NUL or a lone surrogate in a string."""
    try:
        value, end = _DECODER.raw_decode(text, start)
    except json.JSONDecodeError as e:
        where = f"{path}:{e.lineno}" if path is not None else where
        raise DataFormatError(f"{where}: expected {what}, got invalid JSON ({e.msg}, column {e.colno})") from e
    except RecursionError as e:
        raise DataFormatError(f"{where}: expected {what}, got JSON nested too deeply to read") from e
    except ValueError as e:  # NaN/Infinity (_reject_constant) or an integer over Python's digit limit
        raise DataFormatError(f"{where}: expected {what}, got {e}") from e
    if _SUSPECT_ESCAPE.search(text, start, end):
        _check_strings(value, where)
    return value, end


def parse_json(text: str, where: str, what: str) -> object:
    """One JSON document (a line of a JSON Lines file); see `decode_json` for what is rejected."""
    start = _JSON_SPACE.match(text).end()
    value, end = decode_json(text, where, what, start)
    if _JSON_SPACE.match(text, end).end() != len(text):
        raise DataFormatError(f"{where}: expected {what}, got extra data after it at column {end + 1}")
    return value


def iter_json_list(path: Path, record: str) -> Iterator[tuple[int, str, object]]:
    """(index, `path:line` where it starts, value) of each item of a file holding one JSON list of `record`s (their
    shape, for messages). Items are decoded one at a time, so every error names the line of its record even in a
    one-line file of 100k records."""
    lines = [line for _, line in iter_lines(path)]
    text, what = "\n".join(lines), f"a JSON list of {record} records"
    line_ends = list(accumulate(len(line) + 1 for line in lines))  # offset just past each line's newline

    def where(pos: int) -> str:
        return f"{path}:{bisect.bisect_right(line_ends, pos) + 1}"

    pos = _JSON_SPACE.match(text).end()
    if pos == len(text):
        raise DataFormatError(f"{where(pos)}: expected {what}, got an empty file")
    if not text.startswith("[", pos):
        value, _ = decode_json(text, where(pos), what, pos, path)
        raise DataFormatError(f"{where(pos)}: expected {what}, got {type(value).__name__}")
    pos, i = _JSON_SPACE.match(text, pos + 1).end(), 0
    while not (i == 0 and text.startswith("]", pos)):
        at = where(pos)
        item, pos = decode_json(text, at, f"record {i} as {record}", pos, path)
        yield i, at, item
        i, pos = i + 1, _JSON_SPACE.match(text, pos).end()
        if text.startswith("]", pos):
            break
        if not text.startswith(",", pos):
            raise DataFormatError(
                f"{where(pos)}: expected ',' or ']' after record {i - 1}, got {text[pos : pos + 20]!r}"
            )
        pos = _JSON_SPACE.match(text, pos + 1).end()
    end = _JSON_SPACE.match(text, pos + 1).end()
    if end != len(text):
        raise DataFormatError(
            f"{where(end)}: expected the end of the file after the list, got {text[end : end + 20]!r}"
        )


def iter_json_lines(path: str | Path) -> Iterator[tuple[str, int, dict]]:
    """(`path:line` for messages, line number, object) for each non-blank line of a JSON Lines file (.gz too);
    a line that is not a JSON object raises DataFormatError naming the file and line."""
    path = Path(path)
    for lineno, line in iter_lines(path):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        row = parse_json(line, where, "a JSON object")
        if not isinstance(row, dict):
            raise DataFormatError(f"{where}: expected a JSON object, got {type(row).__name__}")
        yield where, lineno, row


@contextmanager
def open_write(path: str | Path) -> Iterator[IO[str]]:
    """A UTF-8 text writer for `path` (gzipped when the name ends in .gz), the counterpart of `open_text`. It writes
    to a hidden temporary file in the same folder and renames it over `path` only when the block ends without an
    error, so a failed or killed write never leaves a partial file behind."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        raw = tmp.open("wb")
    except OSError as e:
        raise DataFormatError(f"{path}: expected a writable file path, got {e.strerror or e}") from e
    f = None
    try:
        with raw:
            # mtime=0 and the final name in the header keep gzipped output byte-identical across runs.
            binary = gzip.GzipFile(str(path), "wb", fileobj=raw, mtime=0) if path.name.endswith(".gz") else raw
            f = io.TextIOWrapper(binary, encoding="utf-8")
            yield f
            f, _ = None, f.detach()  # flush the text layer, keep `binary` open
            if binary is not raw:
                binary.close()  # writes the gzip trailer into raw
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        if f is not None and not f.closed:
            with suppress(ValueError, OSError):
                f.close()
        tmp.unlink(missing_ok=True)
        if isinstance(e, OSError) and e.filename in (str(tmp), str(path)):
            raise DataFormatError(f"{path}: expected a writable file path, got {e.strerror or e}") from e
        raise

"""Text files read strictly and written safely: the one gzip-sniffing line reader (a Path, or an upload's bytes with
the name messages call it), JSON Lines / JSON list / whole-file JSON on top of it, and the one atomic writer.

Reading splits lines before decoding (gzip sniffed whatever the name, BOM dropped), so a bad byte, a NUL or a
truncated gzip stream is reported on its own line; JSON goes through formats.jsontext's strict decoder. Writing goes
to a temporary file that is fsynced and renamed into place (gzipped when the name ends in .gz). Every function takes
`error`, the FormatError subclass to raise (the caller's own).
"""

import bisect
import gzip
import io
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from itertools import accumulate
from pathlib import Path
from typing import IO, Any

from formats.jsontext import _SPACE, FormatError, decode_json, parse_json

_GZIP_MAGIC = b"\x1f\x8b"
Error = type[ValueError]


def check_file(path: Path, what: str = "a data file", error: Error = FormatError) -> None:
    """`error` `<absolute path>: expected <what>, got no such file` (or a directory) unless `path` is a file."""
    if not path.is_file():
        got = "a directory" if path.is_dir() else "no such file"
        raise error(f"{path.resolve()}: expected {what}, got {got}")


def open_text(path: str | Path, *, error: Error = FormatError) -> IO[str]:
    """A text reader of `path`, gunzipping when its first bytes say gzip (whatever its name). Readers that report line
    numbers use `iter_lines` instead."""
    path = Path(path)
    check_file(path, error=error)
    with path.open("rb") as raw:
        gzipped = raw.read(2) == _GZIP_MAGIC
    return gzip.open(path, "rt", encoding="utf-8") if gzipped else path.open(encoding="utf-8")


def iter_lines(
    source: str | Path | bytes, name: str | None = None, *, error: Error = FormatError, what: str = "a data file"
) -> Iterator[tuple[int, str]]:
    """(1-based line number, text without the newline) of a file or of an upload's bytes (`name` is what messages call
    it; default the path, or "<upload>"), gunzipped when the first bytes say gzip; a leading BOM is dropped. A bad
    byte, a NUL or a truncated gzip stream raises `error` naming its line."""
    if not isinstance(source, bytes):
        source = Path(source)
        check_file(source, what, error)
    name = name or (str(source) if isinstance(source, Path) else "<upload>")
    with io.BytesIO(source) if isinstance(source, bytes) else source.open("rb") as raw:
        stream = gzip.GzipFile(fileobj=raw, mode="rb") if raw.read(2) == _GZIP_MAGIC else raw
        raw.seek(0)
        lineno = 0
        try:
            for lineno, line in enumerate(stream, start=1):
                text = _decode(line.rstrip(b"\r\n"), f"{name}:{lineno}", error)
                yield lineno, text.removeprefix("\ufeff") if lineno == 1 else text
        except (OSError, EOFError, zlib.error) as e:
            raise error(f"{name}:{lineno + 1}: expected a complete gzip stream, got {e}") from e


def _decode(line: bytes, where: str, error: Error) -> str:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as e:
        raise error(
            f"{where}: expected UTF-8 text (or gzip of it), got byte 0x{line[e.start]:02x} at column {e.start + 1}"
        ) from e
    if "\0" in text:
        raise error(f"{where}: expected text, got a NUL byte at column {text.index(chr(0)) + 1}")
    return text


def iter_json_lines(
    source: str | Path | bytes, name: str | None = None, *, error: Error = FormatError, what: str = "a data file"
) -> Iterator[tuple[str, int, dict]]:
    """(`name:line` for messages, line number, object) for each non-blank line of a JSON Lines file or upload (.gz
    too); a line that is not a JSON object raises `error` naming the file and line."""
    name = name or (str(source) if not isinstance(source, bytes) else "<upload>")
    for lineno, line in iter_lines(source, name, error=error, what=what):
        if not line.strip():
            continue
        row = parse_json(line, name, "a JSON object", line=lineno, error=error)
        if not isinstance(row, dict):
            raise error(f"{name}:{lineno}: expected a JSON object, got {type(row).__name__}")
        yield f"{name}:{lineno}", lineno, row


def read_json(
    source: str | Path | bytes, name: str | None = None, *, what: str = "a JSON object", error: Error = FormatError
) -> Any:
    """The one JSON document of a file or upload (gzip sniffed, BOM dropped), refused like a JSON Lines line."""
    name = name or (str(source) if not isinstance(source, bytes) else "<upload>")
    text = "\n".join(line for _, line in iter_lines(source, name, error=error, what=what))
    return parse_json(text, name, what, error=error)


def read_json_object(
    source: str | Path | bytes, name: str | None = None, *, what: str = "a JSON object", error: Error = FormatError
) -> dict:
    """`read_json`, refusing anything but an object (`<name>:1: expected a JSON object, got list`)."""
    value = read_json(source, name, what=what, error=error)
    if not isinstance(value, dict):
        raise error(f"{name or source}:1: expected a JSON object, got {type(value).__name__}")
    return value


def iter_json_list(path: Path, record: str, *, error: Error = FormatError) -> Iterator[tuple[int, str, object]]:
    """(index, `path:line` where it starts, value) of each item of a file holding one JSON list of `record`s (their
    shape, for messages). Items are decoded one at a time, so every error names the line of its record even in a
    one-line file of 100k records."""
    lines = [line for _, line in iter_lines(path, error=error)]
    text, what = "\n".join(lines), f"a JSON list of {record} records"
    line_ends = list(accumulate(len(line) + 1 for line in lines))  # offset just past each line's newline

    def where(pos: int) -> str:
        return f"{path}:{bisect.bisect_right(line_ends, pos) + 1}"

    def decode(pos: int, what: str) -> tuple[object, int]:
        return decode_json(text, str(path), what, start=pos, error=error)

    pos = _SPACE.match(text).end()
    if pos == len(text):
        raise error(f"{where(pos)}: expected {what}, got an empty file")
    if not text.startswith("[", pos):
        value, _ = decode(pos, what)
        raise error(f"{where(pos)}: expected {what}, got {type(value).__name__}")
    pos, i = _SPACE.match(text, pos + 1).end(), 0
    while not (i == 0 and text.startswith("]", pos)):
        at = where(pos)
        item, pos = decode(pos, f"record {i} as {record}")
        yield i, at, item
        i, pos = i + 1, _SPACE.match(text, pos).end()
        if text.startswith("]", pos):
            break
        if not text.startswith(",", pos):
            raise error(f"{where(pos)}: expected ',' or ']' after record {i - 1}, got {text[pos : pos + 20]!r}")
        pos = _SPACE.match(text, pos + 1).end()
    end = _SPACE.match(text, pos + 1).end()
    if end != len(text):
        raise error(f"{where(end)}: expected the end of the file after the list, got {text[end : end + 20]!r}")


@contextmanager
def open_write(path: str | Path, *, error: Error = FormatError) -> Iterator[IO[str]]:
    """A UTF-8 text writer for `path` (gzipped when the name ends in .gz), the counterpart of `open_text`. It writes
    to a hidden temporary file in the same folder, fsyncs it and renames it over `path` only when the block ends
    without an error, so a failed or killed write never leaves a partial file behind."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        raw = tmp.open("wb")
    except OSError as e:
        raise error(f"{path}: expected a writable file path, got {e.strerror or e}") from e
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
            raise error(f"{path}: expected a writable file path, got {e.strerror or e}") from e
        raise

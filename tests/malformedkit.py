"""The malformed-input corpus (issue 15): files that `pal data stats`, `pal data convert` and `pal import-run` must
refuse with `error: <file>:<line>: expected ..., got ...` (exit 2), naming the line that holds the fault, and without
writing anything. Built in code, because most cases are binary, huge or gzipped; `write_data_case` and
`write_run_case` put a case on disk.

Each case is (name, files {file name: bytes}, the file the error names, its line, a regex the message must contain).
"""

import gzip
import json
import zlib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Case:
    name: str
    files: dict[str, bytes]
    bad_file: str  # the file the error must name
    line: int  # the line it must name
    match: str  # a regex the text after "expected" must contain

    def __str__(self) -> str:
        return self.name


def _row(i: int, **fields) -> dict:
    """A valid JSONL example (pal_core.data.loaders's schema)."""
    return {
        "id": f"ex-{i}",
        "persona": ["i like tea.", "i have a dog."],
        "history": ["hi"],
        "response": "tea!",
    } | fields


def _jsonl(*rows) -> bytes:
    return b"".join((r if isinstance(r, bytes) else json.dumps(r).encode()) + b"\n" for r in rows)


def _truncated_gzip(payload: bytes) -> tuple[bytes, int]:
    """gzip of `payload` cut in the middle, and the first line it cannot deliver whole."""
    data = gzip.compress(payload, mtime=0)
    cut = data[: len(data) // 2]
    delivered = zlib.decompressobj(-zlib.MAX_WBITS).decompress(cut[10:])  # 10-byte gzip header, raw deflate
    return cut, delivered.count(b"\n") + 1


DEEP = b"[" * 100_000 + b"]" * 100_000  # RecursionError in json.loads before the fix
GOOD = _jsonl(_row(0), _row(1))
_LONG = bytes(range(256)) * 8  # binary junk: NUL on line 1
_big_payload = _jsonl(*[_row(i, response=f"reply number {i} " * 20) for i in range(400)])
_TRUNC, _TRUNC_LINE = _truncated_gzip(_big_payload)

DATA_CASES = [
    Case(
        "deep_nesting_jsonl",
        {"d.jsonl": GOOD + b'{"id": "x", "persona": ' + DEEP + b"}\n"},
        "d.jsonl",
        3,
        "nested deeper than 32",
    ),
    Case(
        "deep_nesting_pal",
        {"d.json": b'[[["p"], ["h"], "r", [0]],\n [["p"], ["h"], "r", [0]],\n ' + DEEP + b"\n]"},
        "d.json",
        3,
        r"record 2 .*nested deeper than 32",
    ),
    Case(
        "lone_surrogate_jsonl",
        {"d.jsonl": GOOD + _jsonl(_row(2)).replace(b"tea!", b"\\ud800")},
        "d.jsonl",
        3,
        "lone surrogate",
    ),
    Case(
        "lone_surrogate_pal",
        {"d.json": b'[[["p"], ["h"], "r", [0]],\n[["p"], ["h"], "\\udc00", [0]]]'},
        "d.json",
        2,
        "lone surrogate",
    ),
    Case(
        "non_utf8_line3_jsonl",
        {"d.jsonl": GOOD + _jsonl(_row(2)).replace(b"tea!", b"t\xe9a!")},
        "d.jsonl",
        3,
        "UTF-8 text .*byte 0xe9",
    ),
    Case(
        "non_utf8_line3_parlai",
        {"chat.txt": b"1 your persona: i like tea.\n2 hi\thello\n3 caf\xe9\tyes\n"},
        "chat.txt",
        3,
        "UTF-8 text .*byte 0xe9",
    ),
    Case(
        "non_utf8_line3_pal",
        {"d.json": b'[[["p"], ["h"], "r", [0]],\n\n[["p"], ["h"], "\xff", [0]]]'},
        "d.json",
        3,
        "byte 0xff",
    ),
    Case("binary_junk_jsonl", {"d.jsonl": _LONG}, "d.jsonl", 1, "NUL byte at column 1"),
    Case("binary_junk_unknown_name", {"d.bin": b"\x89PNG\r\n\x1a\n" + _LONG}, "d.bin", 1, "UTF-8 text .*byte 0x89"),
    Case("empty_jsonl", {"d.jsonl": b""}, "d.jsonl", 1, "at least one example"),
    Case("blank_lines_jsonl", {"d.jsonl": b"\n\n  \n"}, "d.jsonl", 1, "at least one example"),
    Case("empty_pal_file", {"d.json": b""}, "d.json", 1, "got an empty file"),
    Case("empty_pal_list", {"d.json": b"[]"}, "d.json", 1, "at least one example"),
    Case(
        "empty_parlai",
        {"chat.txt": b"\n"},
        "chat.txt",
        1,
        "expected a file in one of the formats|at least one example",
    ),
    Case(
        "duplicate_ids",
        {"d.jsonl": GOOD + _jsonl(_row(0))},
        "d.jsonl",
        3,
        r"unique 'id', got 'ex-0' \(also on line 1\)",
    ),
    Case(
        "label_out_of_range",
        {"d.jsonl": _jsonl(_row(0), _row(1, persona_label=[2]))},
        "d.jsonl",
        2,
        r"0\.\.1 .*got \[2\]",
    ),
    Case("label_not_ints", {"d.jsonl": _jsonl(_row(0), _row(1, persona_label=[True]))}, "d.jsonl", 2, "list of ints"),
    Case(
        "nan",
        {"d.jsonl": GOOD + b'{"id": "n", "persona": [], "history": [], "response": "r", "turn": NaN}\n'},
        "d.jsonl",
        3,
        "NaN",
    ),
    Case(
        "infinity",
        {
            "d.jsonl": _jsonl(_row(0))
            + b'{"id": "n", "persona": [], "history": [], "response": "r", "turn": -Infinity}\n'
        },
        "d.jsonl",
        2,
        "-Infinity",
    ),
    Case(
        "float_overflow",
        {"d.jsonl": _jsonl(_row(0)) + b'{"id": "n", "persona": [], "history": [], "response": "r", "turn": 1e999}\n'},
        "d.jsonl",
        2,
        "out of range",
    ),
    Case(
        "huge_integer",
        {
            "d.jsonl": _jsonl(_row(0))
            + b'{"id": "n", "persona": [], "history": [], "response": "r", "turn": '
            + b"9" * 5000
            + b"}\n"
        },
        "d.jsonl",
        2,
        "digits",
    ),
    Case(
        "id_over_255_chars",
        {"d.jsonl": _jsonl(_row(0), _row(1, id="x" * 256))},
        "d.jsonl",
        2,
        "1-255 characters, got 256",
    ),
    Case(
        "nul_byte_raw",
        {"d.jsonl": GOOD + GOOD.replace(b"ex-", b"ey-").replace(b"tea!", b"te\x00a")},
        "d.jsonl",
        3,
        "NUL byte at column",
    ),
    Case(
        "nul_escape",
        {"d.jsonl": _jsonl(_row(0), _row(1, response="a\u0000b"))},
        "d.jsonl",
        2,
        "NUL character",
    ),
    Case(
        "duplicate_key",
        {"d.jsonl": _jsonl(_row(0)) + b'{"id": "a", "id": "b", "persona": [], "history": [], "response": "r"}\n'},
        "d.jsonl",
        2,
        "the key 'id' twice",
    ),
    Case(
        "truncated_json_line",
        {"d.jsonl": _jsonl(_row(0)) + b'{"id": "a", "persona": [\n'},
        "d.jsonl",
        2,
        "invalid JSON",
    ),
    Case(
        "extra_data_on_line", {"d.jsonl": _jsonl(_row(0)) + b'{"id": "a"} {"id": "b"}\n'}, "d.jsonl", 2, "extra data"
    ),
    Case("not_an_object", {"d.jsonl": _jsonl(_row(0)) + b'"just a string"\n'}, "d.jsonl", 2, "JSON object, got str"),
    Case(
        "persona_not_list",
        {"d.jsonl": _jsonl(_row(0), _row(1, persona="i like tea."))},
        "d.jsonl",
        2,
        "'persona' as a list of strings",
    ),
    Case("unknown_field", {"d.jsonl": _jsonl(_row(0), _row(1, speaker=1))}, "d.jsonl", 2, r"unknown \['speaker'\]"),
    Case("truncated_gzip", {"d.jsonl.gz": _TRUNC}, "d.jsonl.gz", _TRUNC_LINE, "complete gzip stream"),
    Case("gzip_magic_then_junk", {"d.jsonl.gz": b"\x1f\x8b" + _LONG}, "d.jsonl.gz", 1, "complete gzip stream"),
    Case(
        "gzipped_bad_line", {"d.jsonl.gz": gzip.compress(GOOD + b"{oops\n", mtime=0)}, "d.jsonl.gz", 3, "invalid JSON"
    ),
    Case("pal_not_a_list", {"d.json": b'{"persona": []}'}, "d.json", 1, "JSON list of .* records, got dict"),
    Case(
        "pal_record_wrong_length",
        {"d.json": b'[\n[["p"], ["h"], "r", [0]],\n[["p"], ["h"], "r"]\n]'},
        "d.json",
        3,
        r"record 1 as \[persona",
    ),
    Case(
        "pal_label_out_of_range",
        {"d.json": b'[\n[["p"], ["h"], "r", [0]],\n[["p"], ["h"], "r", [5]]\n]'},
        "d.json",
        3,
        r"'persona_label' of record 1",
    ),
    Case("pal_trailing_garbage", {"d.json": b'[[["p"], ["h"], "r", [0]]]\n\nmore'}, "d.json", 3, "end of the file"),
    Case(
        "pal_missing_comma",
        {"d.json": b'[[["p"], ["h"], "r", [0]]\n[["p"], ["h"], "r", [0]]]'},
        "d.json",
        2,
        "',' or ']'",
    ),
    Case(
        "parlai_bad_numbering",
        {"chat.txt": b"1 your persona: i like tea.\n2 hi\thello\n5 so\tok\n"},
        "chat.txt",
        3,
        "line number 1 or 3",
    ),
    Case(
        "parlai_no_tab",
        {"chat.txt": b"1 your persona: i like tea.\n2 hi\thello\n3 no tab here\n"},
        "chat.txt",
        3,
        "text<TAB>labels",
    ),
    Case(
        "rcdg_short_tgt",
        {"per-valid.txt": b"i like tea.\ni like tea.\n", "src-valid.txt": b"hi\nyo\n", "tgt-valid.txt": b"hello\n"},
        "tgt-valid.txt",
        2,
        "matching the other RCDG files",
    ),
]


def _out(i: int, **fields) -> dict:
    """A valid outputs.jsonl line (docs/interfaces.md)."""
    persona = fields.pop("persona", ["i like tea.", "i have a dog."])
    return {
        "id": f"m-{i}",  # not the d-<i> ids the store tests' template holds
        "dialogue_id": f"dlg-{i}",
        "turn": 0,
        "persona": persona,
        "history": ["hi"],
        "reference": "tea!",
        "response": f"reply {i}",
        "gold_label": [0],
        "selected_index": 0,
        "selected_sentence": persona[0] if persona else None,
        "scores": [0.5] * (len(persona) + 1),
        "contradiction": [0.0] * len(persona),
        "time_s": 0.01,
    } | fields


OUT_GOOD = _jsonl(_out(0), _out(1))
CONFIG = json.dumps({"system": "bad_sys", "model": "m", "data": "x.jsonl", "wall_time_s": 0.1}, indent=2).encode()


def _run(outputs: bytes, config: bytes = CONFIG) -> dict[str, bytes]:
    return {"config.json": config, "outputs.jsonl": outputs}


_OUT_TRUNC, _OUT_TRUNC_LINE = _truncated_gzip(_jsonl(*[_out(i, response=f"reply {i} " * 30) for i in range(300)]))

RUN_CASES = [
    Case(
        "deep_nesting",
        _run(OUT_GOOD + b'{"id": "x", "persona": ' + DEEP + b"}\n"),
        "outputs.jsonl",
        3,
        "nested deeper",
    ),
    Case(
        "nesting_over_limit",  # parses, but deeper than both databases are asked to store
        _run(OUT_GOOD + b'{"id": "x", "extra": ' + b"[" * 40 + b"]" * 40 + b"}\n"),
        "outputs.jsonl",
        3,
        "nested deeper than 32",
    ),
    Case(
        "lone_surrogate",
        _run(OUT_GOOD + _jsonl(_out(2)).replace(b"reply 2", b"\\ud800")),
        "outputs.jsonl",
        3,
        "lone surrogate",
    ),
    Case(
        "non_utf8_line3",
        _run(OUT_GOOD + _jsonl(_out(2)).replace(b"reply 2", b"r\xe9ply")),
        "outputs.jsonl",
        3,
        r"UTF-8 text \(or gzip of it\), got byte 0xe9",
    ),
    Case("binary_junk", _run(_LONG), "outputs.jsonl", 1, "NUL byte at column 1"),
    Case("empty_outputs", _run(b""), "outputs.jsonl", 1, "at least one response line"),
    Case(
        "duplicate_ids",
        _run(OUT_GOOD + _jsonl(_out(0))),
        "outputs.jsonl",
        3,
        r"unique \'id\', got duplicate 'm-0' \(also on line 1\)",
    ),
    Case(
        "selected_index_out_of_range",
        _run(_jsonl(_out(0), _out(1, selected_index=2))),
        "outputs.jsonl",
        2,
        r"expected 'selected_index' as an int in -1\.\.1",
    ),
    Case(
        "selected_index_bool",
        _run(_jsonl(_out(0), _out(1, selected_index=True))),
        "outputs.jsonl",
        2,
        "'selected_index'",
    ),
    Case(
        "gold_label_out_of_range",
        _run(_jsonl(_out(0), _out(1, gold_label=[7]))),
        "outputs.jsonl",
        2,
        r"expected 'gold_label' as \[-1\] or distinct",
    ),
    Case("gold_label_repeated", _run(_jsonl(_out(0), _out(1, gold_label=[0, 0]))), "outputs.jsonl", 2, "'gold_label'"),
    Case(
        "nan_score",
        _run(_jsonl(_out(0)) + json.dumps(_out(1, scores=[float("nan"), 0.1, 0.2])).encode() + b"\n"),
        "outputs.jsonl",
        2,
        "NaN, which is not a JSON number",
    ),
    Case(
        "infinity_score",
        _run(_jsonl(_out(0)) + json.dumps(_out(1, scores=[float("inf"), 0.1, 0.2])).encode() + b"\n"),
        "outputs.jsonl",
        2,
        "Infinity",
    ),
    Case(
        "overflow_score",
        _run(_jsonl(_out(0)) + _jsonl(_out(1, scores=[0.5, 0.1, 0.2])).replace(b"0.5", b"1e400")),
        "outputs.jsonl",
        2,
        "out of range",
    ),
    Case(
        "nan_time",
        _run(_jsonl(_out(0)) + json.dumps(_out(1, time_s=float("nan"))).encode() + b"\n"),
        "outputs.jsonl",
        2,
        "NaN",
    ),
    Case(
        "scores_wrong_length",
        _run(_jsonl(_out(0), _out(1, scores=[0.5, 0.5]))),
        "outputs.jsonl",
        2,
        r"expected 'scores' as 3 numbers",
    ),
    Case(
        "contradiction_wrong_length",
        _run(_jsonl(_out(0), _out(1, contradiction=[0.1]))),
        "outputs.jsonl",
        2,
        r"expected 'contradiction' as 2 numbers",
    ),
    Case(
        "id_over_255_chars",
        _run(_jsonl(_out(0), _out(1, id="x" * 256))),
        "outputs.jsonl",
        2,
        "expected 'id' as a string or int of 1-255 characters",
    ),
    Case(
        "split_over_32_chars",
        _run(_jsonl(_out(0), _out(1, split="s" * 33))),
        "outputs.jsonl",
        2,
        "expected 'split' as a string of at most 32",
    ),
    Case(
        "source_over_255_chars",
        _run(_jsonl(_out(0), _out(1, source="s" * 256))),
        "outputs.jsonl",
        2,
        "expected 'source' as a string of at most 255",
    ),
    Case(
        "nul_escape_in_response",
        _run(_jsonl(_out(0), _out(1, response="a\u0000b"))),
        "outputs.jsonl",
        2,
        "NUL character",
    ),
    Case(
        "nul_escape_in_persona",
        _run(_jsonl(_out(0), _out(1, persona=["x\u0000"], selected_sentence=None))),
        "outputs.jsonl",
        2,
        "NUL character",
    ),
    Case(
        "nul_byte_raw",
        _run(OUT_GOOD + _jsonl(_out(2)).replace(b"reply 2", b"re\x00ply")),
        "outputs.jsonl",
        3,
        "NUL byte at column",
    ),
    Case(
        "duplicate_key", _run(_jsonl(_out(0)) + b'{"id": "a", "id": "b"}\n'), "outputs.jsonl", 2, "the key 'id' twice"
    ),
    Case("huge_integer_id", _run(_jsonl(_out(0)) + b'{"id": ' + b"7" * 5000 + b"}\n"), "outputs.jsonl", 2, "digits"),
    Case(
        "turn_not_int", _run(_jsonl(_out(0), _out(1, turn="first"))), "outputs.jsonl", 2, "expected 'turn' as an int"
    ),
    Case("not_an_object", _run(_jsonl(_out(0)) + b"[1, 2]\n"), "outputs.jsonl", 2, "JSON object, got list"),
    Case("invalid_json", _run(_jsonl(_out(0)) + b"{oops\n"), "outputs.jsonl", 2, "invalid JSON"),
    Case(
        "missing_response",
        _run(_jsonl(_out(0), {k: v for k, v in _out(1).items() if k != "response"})),
        "outputs.jsonl",
        2,
        "expected 'response' as a string, got nothing",
    ),
    Case("truncated_gzip", _run(_OUT_TRUNC), "outputs.jsonl", _OUT_TRUNC_LINE, "complete gzip stream"),
    Case("gzipped_bad_line", _run(gzip.compress(OUT_GOOD + b"{oops\n", mtime=0)), "outputs.jsonl", 3, "invalid JSON"),
    Case("config_nan_on_line_5", _run(OUT_GOOD, CONFIG.replace(b"0.1", b"NaN")), "config.json", 5, "NaN"),
    Case(
        "config_deep_on_line_3",
        _run(OUT_GOOD, b'{\n  "system": "s",\n  "generation": ' + DEEP + b"\n}"),
        "config.json",
        3,
        "nested deeper",
    ),
    Case("config_non_utf8_line_3", _run(OUT_GOOD, CONFIG.replace(b'"m"', b'"\xff"')), "config.json", 3, "byte 0xff"),
    Case("config_nul", _run(OUT_GOOD, CONFIG.replace(b'"m"', b'"m\\u0000"')), "config.json", 3, "NUL character"),
    Case(
        "config_surrogate",
        _run(OUT_GOOD, CONFIG.replace(b'"x.jsonl"', b'"\\udfff"')),
        "config.json",
        4,
        "lone surrogate",
    ),
    Case(
        "config_duplicate_key",
        _run(OUT_GOOD, CONFIG.replace(b'"model": "m"', b'"model": "m",\n  "model": "n"')),
        "config.json",
        4,
        "the key 'model' twice",
    ),
    Case(
        "config_long_system_name",
        _run(OUT_GOOD, CONFIG.replace(b'"bad_sys"', b'"' + b"n" * 129 + b'"')),
        "config.json",
        2,
        "expected 'system' as a string of 1-128",
    ),
    Case(
        "config_long_model",
        _run(OUT_GOOD, CONFIG.replace(b'"m"', b'"' + b"m" * 256 + b'"')),
        "config.json",
        3,
        "expected 'model' as a string of at most 255",
    ),
    Case("config_not_object", _run(OUT_GOOD, b"[1, 2]"), "config.json", 1, "JSON object, got list"),
    Case("config_empty", _run(OUT_GOOD, b""), "config.json", 1, "invalid JSON"),
]


def write_case(case: Case, folder: Path) -> Path:
    """Write the case's files into `folder`; returns the path of the file the error must name."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, payload in case.files.items():
        (folder / name).write_bytes(payload)
    return folder / case.bad_file


def data_input(case: Case, folder: Path) -> Path:
    """The path to hand `pal data ...` (for RCDG: the per- file; the error may name a sibling)."""
    write_case(case, folder)
    return folder / next(iter(case.files))

"""The one line reader and the one atomic writer (formats/textio.py): a path and an upload's bytes read alike, gzip is
told by content, BOM dropped, a bad byte or NUL named on its own line, writes whole or not at all."""

import gzip
import subprocess
import sys

import pytest

from formats import FormatError, iter_json_lines, iter_lines, open_write, read_json_object


class OwnError(FormatError):
    """A caller's own error class."""


def _half_gzip() -> bytes:
    data = gzip.compress(b"".join(f"line {i}\n".encode() for i in range(20_000)))
    return data[: len(data) // 2]


LINES = b'\xef\xbb\xbf{"id": 1}\r\n\n{"id": 2}\n'


@pytest.mark.parametrize("payload", [LINES, gzip.compress(LINES)], ids=["plain", "gzip"])
def test_a_path_and_its_bytes_read_the_same_lines(tmp_path, payload):
    path = tmp_path / "rows.txt"  # no .gz in the name: gzip is told by the first bytes
    path.write_bytes(payload)
    expected = [(1, '{"id": 1}'), (2, ""), (3, '{"id": 2}')]  # BOM dropped, CRLF stripped
    assert list(iter_lines(path)) == list(iter_lines(payload, "up.jsonl")) == expected
    assert [(w, row) for w, _, row in iter_json_lines(payload, "up.jsonl")] == [
        ("up.jsonl:1", {"id": 1}),
        ("up.jsonl:3", {"id": 2}),
    ]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"ok\nok\nbad \xe9\n", r"^up:3: expected UTF-8 text \(or gzip of it\), got byte 0xe9 at column 5$"),
        (b"ok\nn\x00l\n", r"^up:2: expected text, got a NUL byte at column 2$"),
        (_half_gzip(), r"^up:\d+: expected a complete gzip stream"),
    ],
    ids=["bad_byte", "nul", "truncated_gzip"],
)
def test_bad_bytes_are_named_on_their_own_line_in_the_callers_error(payload, message):
    with pytest.raises(OwnError, match=message):
        list(iter_lines(payload, "up", error=OwnError))


def test_a_missing_file_or_a_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FormatError, match=r"/nope\.jsonl: expected a data file, got no such file$"):
        list(iter_lines(tmp_path / "nope.jsonl"))
    with pytest.raises(FormatError, match=r": expected a run config, got a directory$"):
        list(iter_lines(tmp_path, what="a run config"))


def test_read_json_object_accepts_a_bom_and_refuses_a_list(tmp_path):
    assert read_json_object(b'\xef\xbb\xbf{\n "a": 1\n}', "c.json") == {"a": 1}
    with pytest.raises(FormatError, match=r"^c\.json:1: expected a JSON object, got list$"):
        read_json_object(b"[1]", "c.json")


def test_open_write_replaces_whole_or_leaves_the_old_file(tmp_path):
    target = tmp_path / "out.jsonl"
    target.write_text("old\n")
    with pytest.raises(KeyError), open_write(target) as f:
        f.write("half")
        raise KeyError("stop")
    assert target.read_text() == "old\n" and sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]
    with open_write(target) as f:
        f.write("new\n")
    assert target.read_text() == "new\n" and sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]


def test_open_write_gzips_by_name_byte_identically(tmp_path):
    outputs = []
    for name in ("a", "b"):
        with open_write(tmp_path / name / "x.jsonl.gz") as f:
            f.write("héllo\n")
        outputs.append((tmp_path / name / "x.jsonl.gz").read_bytes())
    assert outputs[0] == outputs[1] and gzip.decompress(outputs[0]).decode() == "héllo\n"


def test_open_write_to_a_folder_raises_the_callers_error(tmp_path):
    (tmp_path / "d").mkdir()
    with (
        pytest.raises(OwnError, match=r"d: expected a writable file path, got Is a directory$"),
        open_write(tmp_path / "d", error=OwnError) as f,
    ):
        f.write("x")


def test_formats_imports_the_standard_library_only():
    code = (
        "import sys, formats, formats.vocab\n"
        "heavy = {m.split('.')[0] for m in sys.modules} & {'db', 'pal_core', 'ui', 'sqlalchemy', 'streamlit', "
        "'torch', 'numpy', 'pandas', 'transformers'}\n"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

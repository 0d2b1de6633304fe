"""The malformed-input corpus (tests/malformedkit.py) against `pal data stats` and `pal data convert`: every case
exits 2 with `error: <file>:<line>: expected ..., got ...` naming the faulty line, and convert writes nothing."""

import re

import pytest
from malformedkit import DATA_CASES, data_input

from pal_core.cli.app import main
from pal_core.data.loaders import demo_examples_path

ERROR = re.compile(r"error: (?P<file>.+?):(?P<line>\d+): expected .+, got .+")


def _check_error(err: str, case, folder) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err  # one line, no traceback
    m = ERROR.fullmatch(lines[0])
    assert m, lines[0]
    assert (m["file"], int(m["line"])) == (str(folder / case.bad_file), case.line), lines[0]
    assert re.search(case.match, lines[0]), lines[0]


@pytest.mark.parametrize("case", DATA_CASES, ids=str)
def test_malformed_data_stats_exit_2_with_file_and_line(case, tmp_path, capsys):
    path = data_input(case, tmp_path)
    assert main(["data", "stats", str(path)]) == 2
    _check_error(capsys.readouterr().err, case, tmp_path)


@pytest.mark.parametrize("case", DATA_CASES, ids=str)
def test_malformed_data_convert_writes_nothing(case, tmp_path, capsys):
    path = data_input(case, tmp_path / "in")
    out = tmp_path / "out"
    out.mkdir()
    for name in ("x.jsonl", "x.json.gz"):
        assert main(["data", "convert", str(path), str(out / name)]) == 2
        _check_error(capsys.readouterr().err, case, tmp_path / "in")
    assert list(out.iterdir()) == []  # no output, no temporary file


def test_convert_keeps_the_old_output_when_the_new_input_is_bad(tmp_path, capsys):
    dst = tmp_path / "out.jsonl"
    assert main(["data", "convert", str(demo_examples_path()), str(dst)]) == 0
    before = dst.read_bytes()
    bad = data_input(DATA_CASES[0], tmp_path / "in")
    assert main(["data", "convert", str(bad), str(dst)]) == 2
    assert dst.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["in", "out.jsonl"]


def test_convert_to_a_folder_is_a_clear_error(tmp_path, capsys):
    folder = tmp_path / "out.jsonl"
    folder.mkdir()
    assert main(["data", "convert", str(demo_examples_path()), str(folder)]) == 2
    assert capsys.readouterr().err == f"error: {folder}: expected a writable file path, got Is a directory\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"] and list(folder.iterdir()) == []

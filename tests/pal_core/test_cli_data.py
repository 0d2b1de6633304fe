"""End-to-end tests of `pal data stats` and `pal data convert` through pal_core.cli."""

import json

import pytest

from pal_core.cli.app import main
from pal_core.data.loaders import demo_examples_path, load_examples

PARLAI = "1 your persona: i like tea.\n2 hi !\thello , want some tea ?\n3 sure .\there you go .\n"


def test_stats_prints_counts_and_labels(capsys):
    assert main(["data", "stats", str(demo_examples_path())]) == 0
    out = capsys.readouterr().out
    assert "format: jsonl" in out and "examples: 40\n" in out and "dialogues: 12\n" in out
    assert "labelled: 40 (100.0%)" in out and "none [-1]: 14 (35.0%)" in out and "1 sentence: 19 (47.5%)" in out
    assert "uses of each persona index: 0: 9, 1: 8, 2: 5, 3: 7, 4: 4" in out
    assert "response words (mean): 10.70" in out


def test_stats_history_window_and_format_options(tmp_path, capsys):
    path = tmp_path / "chat.txt"
    path.write_text(PARLAI)
    assert main(["data", "stats", str(path), "--fmt", "parlai", "--history_window", "1"]) == 0
    out = capsys.readouterr().out
    assert "examples: 2\n" in out and "dialogues: 1\n" in out and "unlabelled: 2 (100.0%)" in out
    assert "history utterances per example (mean): 1.00" in out


def test_stats_malformed_file_returns_2(tmp_path, capsys):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a", "persona": ["p"], "history": [], "response": "r", "persona_label": "x"}\n')
    assert main(["data", "stats", str(path)]) == 2
    assert "bad.jsonl:1: expected 'persona_label' as a list of ints, got 'x'" in capsys.readouterr().err


def test_stats_unknown_format_returns_2(tmp_path, capsys):
    assert main(["data", "stats", str(demo_examples_path()), "--fmt", "csv"]) == 2
    assert "unknown data format 'csv'; available: parlai, pal, jsonl, rcdg" in capsys.readouterr().err


@pytest.mark.parametrize(("name", "fmt_out"), [("out.json", None), ("out.jsonl.gz", None), ("out.data", "pal")])
def test_convert_writes_readable_output(tmp_path, capsys, name, fmt_out):
    dst = tmp_path / name
    args = ["data", "convert", str(demo_examples_path()), str(dst)] + (["--fmt_out", fmt_out] if fmt_out else [])
    assert main(args) == 0
    assert f"wrote 40 examples to {dst}" in capsys.readouterr().out
    back = load_examples(dst, fmt="pal" if fmt_out else None)
    original = load_examples(demo_examples_path())
    assert [(e.persona, e.history, e.response, e.persona_label) for e in back] == [
        (e.persona, e.history, e.response, e.persona_label) for e in original
    ]


def test_convert_parlai_to_pal_keeps_unlabelled_as_null(tmp_path):
    src, dst = tmp_path / "chat.txt", tmp_path / "chat.json"
    src.write_text(PARLAI)
    assert main(["data", "convert", str(src), str(dst), "--history_window", "2"]) == 0
    assert json.loads(dst.read_text()) == [
        [["i like tea."], ["hi !"], "hello , want some tea ?", None],
        [["i like tea."], ["hello , want some tea ?", "sure ."], "here you go .", None],
    ]


def test_convert_unknown_output_name_returns_2(tmp_path, capsys):
    assert main(["data", "convert", str(demo_examples_path()), str(tmp_path / "out.csv")]) == 2
    assert "out.csv: expected an output name ending in .json or .jsonl" in capsys.readouterr().err


def test_data_help_lists_commands(capsys):
    assert main(["data", "--help"]) == 0
    out = capsys.readouterr().out
    assert "stats" in out and "convert" in out
    assert main(["data", "convert", "--help"]) == 0
    assert "--fmt_out" in capsys.readouterr().out


def test_stats_real_convai2(shared_data, capsys):
    assert main(["data", "stats", str(shared_data / "convai2/valid_self_original_no_cands.txt.gz")]) == 0
    out = capsys.readouterr().out
    assert "examples: 7,801\n" in out and "dialogues: 1,000\n" in out and "unlabelled: 7,801 (100.0%)" in out


def test_convert_limit_keeps_the_first_examples(tmp_path, capsys):
    dst = tmp_path / "first.jsonl"
    assert main(["data", "convert", str(demo_examples_path()), str(dst), "--limit", "5"]) == 0
    assert "wrote 5 examples" in capsys.readouterr().out
    assert [e.id for e in load_examples(dst)] == [e.id for e in load_examples(demo_examples_path())[:5]]
    assert main(["data", "convert", str(demo_examples_path()), str(dst), "--limit", "0"]) == 2
    assert "expected --limit >= 1, got 0" in capsys.readouterr().err

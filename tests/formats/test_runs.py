"""The run directory (formats/rows.py, formats/runs.py): one OutputRow a line with optional fields, read_run /
write_run, each file written once and atomically; runs written before formats/ existed read and write back unchanged."""

import json

import pytest

import formats
from formats import FormatError, OutputRow, read_outputs, read_run, write_run
from pal_core.data import demo_runs_dir

MINIMAL = {"id": "noscores-1", "persona": ["I like tea."], "history": ["hi"], "response": "hello"}


def test_a_row_without_optional_fields_is_valid_and_says_what_is_missing():
    row = OutputRow.from_dict(MINIMAL)
    assert (row.scores, row.selected_index, row.reference, row.gold_label) == (None, None, None, None)
    assert row.to_dict() == {
        "id": "noscores-1",
        "dialogue_id": None,
        "turn": None,
        "persona": ["I like tea."],
        "history": ["hi"],
        "reference": None,
        "response": "hello",
        "gold_label": None,
        "selected_index": None,
        "selected_sentence": None,
        "scores": None,
        "contradiction": None,
        "time_s": None,
    }


def test_unknown_keys_and_swap_fields_are_kept_in_order():
    row = OutputRow.from_dict({**MINIMAL, "note": {"x": 1}, "original_persona": ["p"], "original_gold_label": None})
    out = row.to_dict()
    assert list(out)[-3:] == ["original_persona", "original_gold_label", "note"] and out["note"] == {"x": 1}
    assert OutputRow.from_dict(out) == row


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"response": None}, r"expected 'response' as a string, got None"),
        ({"persona": "tea"}, r"expected 'persona' as a list of strings, got 'tea'"),
        ({"scores": [0.1]}, r"expected 'scores' as 2 numbers \(one per persona sentence, then none\) or null"),
        ({"selected_index": 1}, r"expected 'selected_index' as an int in -1\.\.0"),
        ({"selected_index": True}, r"expected 'selected_index' as an int"),
        ({"gold_label": [0, 0]}, r"expected 'gold_label' as \[-1\] or distinct persona indices in 0\.\.0"),
        ({"time_s": -1}, r"expected 'time_s' as a number >= 0"),
        ({"id": ""}, r"expected 'id' as a non-empty string or int"),
    ],
    ids=["missing", "persona", "scores", "index", "bool", "label", "time", "empty_id"],
)
def test_a_bad_field_is_named_with_its_line(change, message):
    payload = (json.dumps(MINIMAL) + "\n" + json.dumps({**MINIMAL, "id": "b", **change}) + "\n").encode()
    with pytest.raises(FormatError, match=rf"^up\.jsonl:2: {message}"):
        read_outputs(payload, "up.jsonl")


def test_limits_are_the_callers_columns():
    row = {**MINIMAL, "split": "s" * 40}
    assert OutputRow.from_dict(row).split == "s" * 40
    with pytest.raises(FormatError, match=r"^f:3: expected 'split' as a string of at most 32 characters"):
        OutputRow.from_dict(row, "f:3", limits={"split": 32})


def test_duplicate_ids_and_empty_files_are_refused():
    line = (json.dumps(MINIMAL) + "\n").encode()
    with pytest.raises(
        FormatError, match=r"^o:2: expected a unique 'id', got duplicate 'noscores-1' \(also on line 1\)"
    ):
        read_outputs(line * 2, "o")
    with pytest.raises(FormatError, match=r"^o:1: expected at least one response line, got an empty file"):
        read_outputs(b"\n", "o")


@pytest.mark.parametrize("name", ["full_persona", "pal", "persona_free", "sft"])
def test_demo_runs_read_and_write_back_byte_identical(tmp_path, name):
    source = demo_runs_dir() / name
    run = read_run(source)
    assert len(run.rows) == run.metrics["n"] and run.config["system"]
    write_run(tmp_path, run.config, run.rows, run.metrics)
    for file in (formats.CONFIG_FILE, formats.OUTPUTS_FILE, formats.METRICS_FILE):
        assert (tmp_path / file).read_bytes() == (source / file).read_bytes(), file


def test_write_run_writes_each_given_file_once_and_leaves_the_others(tmp_path, monkeypatch):
    opened = []
    real = formats.runs.open_write
    monkeypatch.setattr(formats.runs, "open_write", lambda path, **kw: opened.append(path.name) or real(path, **kw))
    (tmp_path / formats.CONFIG_FILE).write_text('{"system": "kept"}')
    write_run(tmp_path, rows=[OutputRow.from_dict(MINIMAL)], metrics={"n": 1})
    assert opened == [formats.OUTPUTS_FILE, formats.METRICS_FILE]
    run = read_run(tmp_path)
    assert (run.config, run.metrics, [r.id for r in run.rows]) == ({"system": "kept"}, {"n": 1}, ["noscores-1"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "metrics.json", "outputs.jsonl"]  # no temp


def test_write_run_refuses_nan_and_keeps_the_old_file(tmp_path):
    write_run(tmp_path, metrics={"bleu_1": 1.0})
    with pytest.raises(FormatError, match=r"metrics\.json: expected values JSON can hold, got Out of range float"):
        write_run(tmp_path, metrics={"bleu_1": float("nan")})
    assert json.loads((tmp_path / formats.METRICS_FILE).read_text()) == {"bleu_1": 1.0}


def test_read_run_without_outputs_or_with_a_bad_config_names_the_file(tmp_path):
    with pytest.raises(
        FormatError, match=r"outputs\.jsonl: expected a run directory with outputs\.jsonl, got no such"
    ):
        read_run(tmp_path)
    write_run(tmp_path, rows=[OutputRow.from_dict(MINIMAL)])
    (tmp_path / formats.CONFIG_FILE).write_text('{\n "a": 1,\n "a": 2\n}')
    with pytest.raises(FormatError, match=r"config\.json:3: expected a JSON object, got the key 'a' twice"):
        read_run(tmp_path)

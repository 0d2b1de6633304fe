"""Tests for pal_core.data.loaders, readers and dialogue: every reader on small inline files (plain and .gz), errors,
round-trips, shared data."""

import gzip
import json
from pathlib import Path

import pytest

from pal_core.data.loaders import (
    Example,
    compute_stats,
    demo_examples_path,
    demo_runs_dir,
    group_dialogues,
    guess_format,
    load_dialogues,
    load_examples,
    open_write,
    write_examples,
)
from pal_core.errors import DataFormatError, UnknownNameError

PARLAI = """\
1 your persona: i like tea.
2 your persona: i have two dogs.
3 partner's persona: i am a nurse.
4 hi how are you ?\ti am good , just made tea .
5 nice . i just got home from work .\twhat do you do ?
6 i am a nurse .\tcool . my dogs love nurses .\t\tbad reply|cool . my dogs love nurses .
1 your persona: i play guitar.
2 hello !\thi , i was playing guitar .
"""
PAL_RECORDS = [
    [["i like tea .", "i have two dogs ."], ["hi how are you ?"], "i am good , just made tea .", [0]],
    [
        ["i like tea .", "i have two dogs ."],
        ["hi how are you ?", "i am good , just made tea .", "nice ."],
        "what do you do ?",
        [-1],
    ],
    [["i play guitar ."], ["hello !"], "hi , i was playing guitar .", [0]],
]


def write(path: Path, text: str) -> Path:
    if path.name.endswith(".gz"):
        with gzip.open(path, "wt", encoding="utf-8") as f:
            f.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["valid_both.txt", "valid_both.txt.gz"])
def test_parlai_reads_personas_history_and_candidates(tmp_path, name):
    examples = load_examples(write(tmp_path / name, PARLAI), history_window=3)
    assert [e.id for e in examples] == ["valid_both:0:0", "valid_both:0:1", "valid_both:0:2", "valid_both:1:0"]
    first, third, other = examples[0], examples[2], examples[3]
    assert first.persona == ("i like tea.", "i have two dogs.") and first.partner_persona == ("i am a nurse.",)
    assert first.history == ("hi how are you ?",) and first.response == "i am good , just made tea ."
    assert first.persona_label is None and first.split == "valid" and first.dialogue_id == "valid_both:0"
    # Turn 2 sees the last 3 utterances of both speakers, oldest first.
    assert third.history == ("nice . i just got home from work .", "what do you do ?", "i am a nurse .")
    assert third.turn == 2 and third.candidates == ("bad reply", "cool . my dogs love nurses .")
    assert other.persona == ("i play guitar.",) and other.partner_persona == () and other.history == ("hello !",)


@pytest.mark.parametrize(("window", "expected"), [(1, 1), (2, 2), (5, 5), (None, 5), (0, 0)])
def test_parlai_history_window(tmp_path, window, expected):
    examples = load_examples(write(tmp_path / "d.txt", PARLAI), history_window=window)
    full = (
        "hi how are you ?",
        "i am good , just made tea .",
        "nice . i just got home from work .",
        "what do you do ?",
        "i am a nurse .",
    )
    assert examples[2].history == full[len(full) - expected :]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("1 your persona: a.\n2 hello\n", r"d\.txt:2: expected a persona line or 'text<TAB>labels', got 'hello'"),
        ("1 your persona: a.\n3 hi\tyo\n", r"d\.txt:2: expected line number 1 or 2, got 3"),
        ("x your persona: a.\n", r"d\.txt:1: expected '<line number> <text>'"),
        ("1 hi\tyo\n2 your persona: a.\n", r"d\.txt:2: expected persona lines before the first turn"),
    ],
)
def test_parlai_malformed_names_line(tmp_path, text, match):
    with pytest.raises(DataFormatError, match=match):
        load_examples(write(tmp_path / "d.txt", text), fmt="parlai")


@pytest.mark.parametrize("name", ["valid_output.json", "valid_output.json.gz"])
def test_pal_reads_records_and_infers_dialogues(tmp_path, name):
    examples = load_examples(write(tmp_path / name, json.dumps(PAL_RECORDS)))
    assert [e.persona_label for e in examples] == [(0,), (-1,), (0,)]
    assert [(e.dialogue_id, e.turn) for e in examples] == [
        ("valid_output:0", 0),
        ("valid_output:0", 1),
        ("valid_output:1", 0),
    ]
    assert examples[1].history == ("hi how are you ?", "i am good , just made tea .", "nice .")
    assert load_examples(tmp_path / name, history_window=1)[1].history == ("nice .",)


@pytest.mark.parametrize(
    ("records", "match"),
    [
        ([PAL_RECORDS[0], PAL_RECORDS[1][:3]], r"valid\.json:1: expected record 1 as \[persona, history, response"),
        (
            [[["a"], ["b"], "c", "x"]],
            r"valid\.json:1: expected 'persona_label' of record 0 as a list of ints, got 'x'",
        ),
        (
            [[["a"], ["b"], "c", [1]]],
            r":1: expected 'persona_label' of record 0 as \[-1\] or distinct indices in 0\.\.0",
        ),
        ([[["a"], ["b"], "c", [-1, 0]]], r":1: expected 'persona_label' of record 0 as \[-1\] or distinct"),
        ([[["a"], ["b"], "c", []]], r":1: expected 'persona_label' of record 0 as a list of ints, got \[\]"),
        ([[["a", 3], ["b"], "c", [0]]], r":1: expected 'persona' of record 0 as a list of strings"),
        ([[["a"], "b", "c", [0]]], r":1: expected 'history' of record 0 as a list of strings, got 'b'"),
        ([[["a"], ["b"], 7, [0]]], r":1: expected 'response' of record 0 as a string, got 7"),
        (
            {"a": 1},
            r"valid\.json:1: expected a JSON list of \[persona, history, response, persona_label\] records, got dict",
        ),
    ],
)
def test_pal_malformed_names_record_and_field(tmp_path, records, match):
    with pytest.raises(DataFormatError, match=match):
        load_examples(write(tmp_path / "valid.json", json.dumps(records)))


def test_pal_invalid_json_names_line(tmp_path):
    with pytest.raises(
        DataFormatError,
        match=r"valid\.json:2: expected record 1 as \[persona.*\], got invalid JSON \(Expecting value, column 28\)",
    ):
        load_examples(write(tmp_path / "valid.json", '[\n  [["a"], ["b"], "c", [0]],,\n]'))


def test_jsonl_round_trip_is_exact(tmp_path):
    examples = [
        Example(
            id="a",
            persona=("p1", "p2"),
            history=("h1", "h2"),
            response="r",
            persona_label=(1, 0),
            partner_persona=("q",),
            candidates=("x", "r"),
            dialogue_id="d",
            turn=3,
            source="s",
            split="train",
        ),
        Example(id="b", persona=("ünï",), history=(), response="<b>**r**</b>"),
    ]
    for name in ("out.jsonl", "out.jsonl.gz"):
        write_examples(examples, tmp_path / name, fmt="jsonl")
        assert load_examples(tmp_path / name, history_window=None) == examples
    write_examples(examples, tmp_path / "again.jsonl", fmt="jsonl")
    assert (tmp_path / "again.jsonl").read_bytes() == (tmp_path / "out.jsonl").read_bytes()


def test_pal_round_trip_is_byte_identical(tmp_path):
    src = write(tmp_path / "v.json", json.dumps(PAL_RECORDS))
    write_examples(load_examples(src), tmp_path / "w.json", fmt="pal")
    assert (tmp_path / "w.json").read_bytes() == src.read_bytes()


def test_pal_writes_unlabelled_as_null_and_reads_it_back(tmp_path):
    examples = load_examples(write(tmp_path / "d.txt", PARLAI))
    write_examples(examples, tmp_path / "d.json", fmt="pal")
    assert json.loads((tmp_path / "d.json").read_text())[0][3] is None
    back = load_examples(tmp_path / "d.json")
    assert [(e.persona, e.history, e.response, e.persona_label) for e in back] == [
        (e.persona, e.history, e.response, e.persona_label) for e in examples
    ]


@pytest.mark.parametrize(
    ("line", "match"),
    [
        ('{"id": "a", "persona": [], "history": []}', r"d\.jsonl:2: expected the fields .* missing \['response'\]"),
        ('{"id": "a", "persona": [], "history": [], "response": "r", "speaker": 1}', r"unknown \['speaker'\]"),
        (
            '{"id": "a", "persona": ["p"], "history": [], "response": "r", "persona_label": [2]}',
            r"d\.jsonl:2: expected 'persona_label' as \[-1\] or distinct indices in 0\.\.0 .* got \[2\]",
        ),
        ('{"id": "a", "persona": "p", "history": [], "response": "r"}', r"d\.jsonl:2: expected 'persona' as a list"),
        ('{"id": "a", "persona": [], "history": [], "response": "r", "turn": "1"}', r"d\.jsonl:2: expected 'turn'"),
        ("[1, 2]", r"d\.jsonl:2: expected a JSON object, got list"),
        ("{oops", r"d\.jsonl:2: expected a JSON object, got invalid JSON"),
    ],
)
def test_jsonl_malformed_names_line_and_field(tmp_path, line, match):
    good = '{"id": "z", "persona": [], "history": [], "response": "r"}'
    with pytest.raises(DataFormatError, match=match):
        load_examples(write(tmp_path / "d.jsonl", f"{good}\n{line}\n"))


def test_rcdg_reads_three_files_from_any_of_them(tmp_path):
    write(
        tmp_path / "per-train.txt.gz", "i like tea</s>i run</s>i am tall\ni like tea</s>i run</s>i am tall\nx</s>y\n"
    )
    write(tmp_path / "src-train.txt.gz", "hi there\nwhat do you do ?\nhello\n")
    write(tmp_path / "tgt-train.txt.gz", "hi , i just made tea .\ni run a lot .\nhey\n")
    for part in ("per", "src", "tgt"):
        examples = load_examples(tmp_path / f"{part}-train.txt.gz")
        assert [e.response for e in examples] == ["hi , i just made tea .", "i run a lot .", "hey"]
    assert examples[0].persona == ("i like tea", "i run", "i am tall") and examples[1].history == ("what do you do ?",)
    assert [(e.dialogue_id, e.turn) for e in examples] == [
        ("rcdg-train:0", 0),
        ("rcdg-train:0", 1),
        ("rcdg-train:1", 0),
    ]
    assert examples[0].split == "train" and examples[0].persona_label is None


def test_rcdg_line_count_mismatch_names_file(tmp_path):
    write(tmp_path / "per-valid.txt", "a</s>b\na</s>b\n")
    write(tmp_path / "src-valid.txt", "hi\n")
    write(tmp_path / "tgt-valid.txt", "yo\nyo\n")
    with pytest.raises(DataFormatError, match=r"src-valid\.txt:2: expected a line \(src\) matching the other RCDG"):
        load_examples(tmp_path / "per-valid.txt")


def test_guess_format_from_name_and_content(tmp_path):
    assert guess_format(write(tmp_path / "x.txt", PARLAI)) == "parlai"
    assert guess_format(write(tmp_path / "data", json.dumps(PAL_RECORDS))) == "pal"
    assert guess_format(write(tmp_path / "rows.gz", '{"id": "a"}\n')) == "jsonl"
    assert guess_format(tmp_path / "tgt-test.txt.gz") == "rcdg"
    with pytest.raises(DataFormatError, match=r"odd\.txt:1: expected a file in one of the formats"):
        guess_format(write(tmp_path / "odd.txt", "hello world\n"))


def test_unknown_format_and_missing_file(tmp_path):
    with pytest.raises(UnknownNameError, match=r"unknown data format 'csv'; available: parlai, pal, jsonl, rcdg"):
        load_examples(write(tmp_path / "a.txt", PARLAI), fmt="csv")
    with pytest.raises(UnknownNameError, match=r"available: pal, jsonl"):
        write_examples([], tmp_path / "a.txt", fmt="parlai")
    with pytest.raises(DataFormatError, match=r"/nope\.json: expected a data file, got no such file"):
        load_examples(tmp_path / "nope.json")


def test_example_validates_and_coerces_lists():
    example = Example(id="a", persona=["p"], history=["h"], response="r", persona_label=[0])
    assert example.persona == ("p",) and example.persona_label == (0,) and hash(example)
    with pytest.raises(DataFormatError, match=r"Example\.persona_label \(a\): expected .* got \[1\]"):
        Example(id="a", persona=("p",), history=(), response="r", persona_label=(1,))
    with pytest.raises(DataFormatError, match=r"Example\.history \(a\): expected a list of strings, got 'h'"):
        Example(id="a", persona=("p",), history="h", response="r")


def test_group_dialogues_and_stats(tmp_path):
    dialogues = load_dialogues(write(tmp_path / "d.txt", PARLAI))
    assert [(d.id, len(d.turns)) for d in dialogues] == [("d:0", 3), ("d:1", 1)]
    assert dialogues[0].partner_persona == ("i am a nurse.",)
    stats = compute_stats(load_examples(write(tmp_path / "v.json", json.dumps(PAL_RECORDS))))
    assert (stats.n_examples, stats.n_dialogues, stats.n_unlabelled) == (3, 2, 0)
    assert stats.label_sizes == {1: 2, 0: 1} and stats.index_counts == {0: 2}
    assert stats.mean_history_utterances == pytest.approx(5 / 3)


def test_demo_examples_and_runs_are_consistent():
    examples = load_examples(demo_examples_path())
    assert 36 <= len(examples) <= 44 and len({e.id for e in examples}) == len(examples)
    assert all(e.split == "demo" and 4 <= len(e.persona) <= 5 and e.partner_persona for e in examples)
    labels = [e.persona_label for e in examples]
    assert 0.3 < sum(label == (-1,) for label in labels) / len(labels) < 0.6
    assert len(group_dialogues(examples)) == 12
    # Folder = the system's name in the demo; config = the system type that produced it (real model outputs).
    kinds = {
        "persona_free": "persona_free",
        "full_persona": "full_persona",
        "sft": "full_persona",
        "pal": "select_then_generate",
    }
    assert sorted(p.name for p in demo_runs_dir().iterdir()) == sorted(kinds)
    for system, kind in kinds.items():
        run = demo_runs_dir() / system
        assert json.loads((run / "config.json").read_text())["system"] == kind
        assert json.loads((run / "metrics.json").read_text())["n"] == len(examples)
        assert (run / "summary.md").read_text().startswith("# ")
        rows = [json.loads(line) for line in (run / "outputs.jsonl").read_text().splitlines()]
        assert [r["id"] for r in rows] == [e.id for e in examples]
        assert [r["reference"] for r in rows] == [e.response for e in examples]
        for row, example in zip(rows, examples, strict=True):
            if kind == "select_then_generate":
                assert len(row["scores"]) == len(example.persona) + 1
                assert row["scores"].index(max(row["scores"])) == row["selected_index"] % (len(example.persona) + 1)
            else:
                assert row["selected_index"] is None and row["scores"] is None
    # A partner who typed markup: the UI must show it literally wherever the history appears.
    assert any("<b>quiet</b> things, like my **garden**" in u for e in examples for u in e.history)


# Counts from /work/shared/data/README.md.
def test_shared_convai2_counts(shared_data):
    examples = load_examples(shared_data / "convai2/valid_self_original_no_cands.txt.gz")
    dialogues = group_dialogues(examples)
    assert (len(examples), len(dialogues)) == (7801, 1000)
    assert sum(len(d.persona) for d in dialogues) == 4483
    assert examples[0].history == ("hello what are doing today ?",)
    both = load_dialogues(shared_data / "convai2/valid_both_revised_no_cands.txt.gz")
    assert sum(len(d.partner_persona) for d in both) == 4495 and sum(len(d.turns) for d in both) == 7801
    assert both[0].persona[0] == "i've been know to finish almost two dozen novels in a twelve month period."


def test_shared_pal_counts_labels_and_history_match_convai2(shared_data):
    examples = load_examples(shared_data / "pal_format/valid_output.json.gz")
    stats = compute_stats(examples)
    assert (stats.n_examples, stats.n_dialogues) == (7801, 1000)
    assert stats.label_sizes == {0: 4854, 1: 2583, 2: 329, 3: 34, 4: 1}
    assert examples[1].persona_label == (0,) and examples[0].persona_label == (-1,)
    # Same dialogues as ConvAI2: the window-3 history built from ParlAI text has the same lengths.
    parlai = load_examples(shared_data / "convai2/valid_self_original_no_cands.txt.gz", history_window=3)
    assert [len(e.history) for e in examples] == [len(e.history) for e in parlai]
    assert [e.turn for e in examples] == [e.turn for e in parlai]
    wo_th = compute_stats(load_examples(shared_data / "pal_format/valid_output-wo-th.json.gz"))
    assert wo_th.label_sizes == {0: 3818, 1: 3197, 2: 668, 3: 105, 4: 13}


def test_shared_pal_round_trip_is_byte_identical(shared_data, tmp_path):
    src = shared_data / "pal_format/valid_output.json.gz"
    write_examples(load_examples(src, history_window=None), tmp_path / "out.json", fmt="pal")
    assert (tmp_path / "out.json").read_bytes() == gzip.decompress(src.read_bytes())


def test_shared_rcdg_counts(shared_data):
    examples = load_examples(shared_data / "rcdg/per-train.txt.gz")
    assert len(examples) == 10000
    assert examples[0].persona == (
        "i like to remodel homes",
        "i like to go hunting",
        "i like to shoot a bow",
        "my favorite holiday is halloween",
    )
    assert examples[0].response == "you must be very fast . hunting is one of my favorite hobbies ."


@pytest.mark.parametrize(
    ("name", "payload", "match"),
    [
        ("x.jsonl.gz", b"\x1f\x8bnot gzip", r"x\.jsonl\.gz:1: expected a complete gzip stream, got"),
        (
            "x.jsonl",
            b'{"id": "\xff"}\n',
            r"x\.jsonl:1: expected UTF-8 text \(or gzip of it\), got byte 0xff at column 9",
        ),
    ],
)
def test_undecodable_input_is_a_data_format_error(tmp_path, name, payload, match):
    (tmp_path / name).write_bytes(payload)
    with pytest.raises(DataFormatError, match=match):
        load_examples(tmp_path / name)


def test_open_write_leaves_nothing_when_the_block_fails(tmp_path):
    target = tmp_path / "out.jsonl.gz"
    with pytest.raises(KeyError), open_write(target) as f:
        f.write("half a line")
        raise KeyError("the writer's caller failed")
    assert list(tmp_path.iterdir()) == []  # neither the target nor the temporary file
    target.write_bytes(b"old")
    with pytest.raises(KeyError), open_write(target) as f:
        f.write("new")
        raise KeyError("the writer's caller failed")
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["out.jsonl.gz"]


def test_open_write_gzip_is_byte_identical_across_runs(tmp_path):
    examples = load_examples(demo_examples_path())
    write_examples(examples, tmp_path / "a.jsonl.gz", fmt="jsonl")
    write_examples(examples, tmp_path / "b" / "a.jsonl.gz", fmt="jsonl")
    assert (tmp_path / "a.jsonl.gz").read_bytes() == (tmp_path / "b" / "a.jsonl.gz").read_bytes()
    assert load_examples(tmp_path / "a.jsonl.gz") == examples


def test_bom_and_crlf_are_read(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"id": "a", "persona": [], "history": [], "response": "r"}\r\n\r\n')
    assert [e.id for e in load_examples(path)] == ["a"]

"""The development split (pal_core.data.split, `pal data split`): whole persona groups held out, deterministic."""

import pytest

from pal_core.cli.app import main
from pal_core.data.loaders import demo_examples_path, load_examples
from pal_core.data.split import persona_key, split_by_persona
from pal_core.errors import ConfigError


def check_invariants(examples, train, dev, dev_turns):
    assert len(dev) >= dev_turns and len(train) + len(dev) == len(examples)
    assert {e.id for e in train}.isdisjoint(e.id for e in dev)
    assert {persona_key(e.persona) for e in train}.isdisjoint(persona_key(e.persona) for e in dev)
    assert {e.dialogue_id for e in train}.isdisjoint(e.dialogue_id for e in dev)
    order = {e.id: i for i, e in enumerate(examples)}
    assert [order[e.id] for e in dev] == sorted(order[e.id] for e in dev)  # input order kept


def test_persona_key_ignores_case_punctuation_and_order():
    assert persona_key(["I like tea.", "i have a dog"]) == persona_key(["i have a dog .", "i like tea"])
    assert persona_key(["i like tea"]) != persona_key(["i like coffee"])


def test_demo_split_holds_whole_personas_and_is_seeded():
    examples = load_examples(demo_examples_path())  # 40 turns, 12 dialogues, 12 personas
    train, dev = split_by_persona(examples, dev_turns=10, seed=0)
    check_invariants(examples, train, dev, 10)
    again = split_by_persona(examples, dev_turns=10, seed=0)
    assert ([e.id for e in again[0]], [e.id for e in again[1]]) == ([e.id for e in train], [e.id for e in dev])
    other = split_by_persona(examples, dev_turns=10, seed=1)[1]
    assert [e.id for e in other] != [e.id for e in dev]


def test_split_keeps_a_repeated_persona_on_one_side():
    examples = load_examples(demo_examples_path())
    # the first dialogue's persona again, reordered and re-cased, in a later turn: it must follow its group
    twin = examples[-1].__class__(
        id="twin", persona=[s.upper() for s in reversed(examples[0].persona)], history=("hi",), response="hello"
    )
    pool = examples + [twin]
    for seed in range(5):
        train, dev = split_by_persona(pool, dev_turns=10, seed=seed)
        side = dev if examples[0] in dev else train
        assert twin in side


def test_split_rejects_sizes_that_leave_no_train():
    examples = load_examples(demo_examples_path())
    with pytest.raises(ConfigError, match=r"split_by_persona: expected dev_turns below what leaves a train side"):
        split_by_persona(examples, dev_turns=40)
    with pytest.raises(ConfigError, match=r"split_by_persona: expected dev_turns >= 1, got 0"):
        split_by_persona(examples, dev_turns=0)


def test_cli_split_writes_both_sides(tmp_path, capsys):
    train_out, dev_out = tmp_path / "train.jsonl", tmp_path / "dev.json.gz"
    args = ["data", "split", str(demo_examples_path()), "--train_out", str(train_out), "--dev_out", str(dev_out)]
    assert main([*args, "--dev_turns", "10", "--seed", "3"]) == 0
    train, dev = load_examples(train_out), load_examples(dev_out)
    assert len(train) + len(dev) == 40 and len(dev) >= 10
    assert {persona_key(e.persona) for e in train}.isdisjoint(persona_key(e.persona) for e in dev)
    assert dev[0].persona_label is not None  # labels travel with the turns
    out = capsys.readouterr().out
    assert f"wrote {len(train)} turns" in out and f"to {dev_out}" in out


@pytest.mark.shared_data
def test_real_rcdg_sample_split(shared_data):
    examples = load_examples(shared_data / "rcdg" / "per-train.txt.gz")
    assert len(examples) == 10_000
    train, dev = split_by_persona(examples, dev_turns=1000, seed=0)
    check_invariants(examples, train, dev, 1000)
    assert len(dev) < 1100  # whole dialogues overshoot the target by less than one persona group's turns

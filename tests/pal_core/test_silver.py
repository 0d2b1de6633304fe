"""Tests for pal_core/judge/silver.py: reading entailment-pair files, the negation rules and the silver pair mix."""

import gzip
import json
from collections import Counter

import pytest
from palkit import build_tiny_classifier

from pal_core.cli.app import main
from pal_core.errors import ConfigError, DataFormatError
from pal_core.judge.nli_pairs import NliPair
from pal_core.judge.silver import build_silver_pairs, load_entailed_pairs, negate_sentence, silver_pairs
from pal_core.judge.train import ConsistencyConfig, train_consistency

ENTAILED = [
    ["i like to remodel homes.", "i also remodel homes when i am not out bow hunting ."],
    ["i am a nurse.", "i work nights at the hospital as a nurse ."],
    ["i have two dogs.", "my two dogs keep me busy ."],
    ["my favorite color is blue.", "blue , like my favorite shirt ."],
    ["i just started college.", "college is hard , i just started ."],
    ["i live alone in a cabin.", "my cabin is quiet since i live alone ."],
]


@pytest.mark.parametrize(
    ("sentence", "negated"),
    [
        ("i am an accountant .", "i am not an accountant ."),
        ("i m a mom .", "i am not a mom ."),
        ("i like playing badminton .", "i dislike playing badminton ."),
        ("i love walking .", "i hate walking ."),
        ("i have two dogs .", "i do not have two dogs ."),
        ("i have been to paris .", None),
        ("i do not own a television .", "i own a television ."),
        ("i can swim .", "i can not swim ."),
        ("i can t stand beets .", None),
        ("my parents are divorced .", "my parents are not divorced ."),
        ("my favorite drink is cuba libre .", "my favorite drink is not cuba libre ."),
        ("i live in vienna .", "i do not live in vienna ."),
        ("i just started college .", None),
        ("i worked as a chef .", None),
        ("hi .", None),
    ],
)
def test_negate_sentence_rules(sentence, negated):
    assert negate_sentence(sentence) == negated


def test_load_entailed_pairs_spaces_final_punctuation(tmp_path):
    path = tmp_path / "entailed.json.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        json.dump(ENTAILED, f)
    pairs = load_entailed_pairs(path)
    assert pairs[0] == ("i like to remodel homes .", "i also remodel homes when i am not out bow hunting .")
    assert len(pairs) == len(ENTAILED)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", r"bad\.json: expected a JSON list of \[persona sentence, response\] pairs: "),
        ("[]", r"bad\.json: expected a non-empty JSON list"),
        ('[["a.", "b"], ["only one"]]', r"bad\.json: entry 1: expected \[persona sentence, response\]"),
        ('[["a.", ""]]', r"entry 0: expected \[persona sentence, response\] \(two strings\), got \['a\.', ''\]"),
    ],
)
def test_load_entailed_pairs_names_file_and_entry(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(DataFormatError, match=message):
        load_entailed_pairs(path)


def test_silver_pairs_mix_classes_without_self_matches():
    pairs = [(p.replace(".", " ."), r) for p, r in ENTAILED]
    silver = silver_pairs(pairs, 3, contradictions=True, seed=1)
    counts = Counter(p.label for p in silver)
    assert counts == {1: 3, 0: 3, -1: 3}
    entailed = {p.persona: p.response for p in silver if p.label == 1}
    for pair in silver:
        if pair.label == 0:  # a mismatch: the response belongs to another sentence
            assert pair.persona in entailed and pair.response != dict(pairs)[pair.persona]
        if pair.label == -1:  # a rule-negated sentence with the response that entails the original
            assert any(negate_sentence(p) == pair.persona and r == pair.response for p, r in pairs)
    assert silver == silver_pairs(pairs, 3, contradictions=True, seed=1)  # deterministic for a seed
    assert Counter(p.label for p in silver_pairs(pairs, 3)) == {1: 3, 0: 3}  # contradictions are off by default


def test_train_consistency_adds_silver_pairs(tmp_path):
    silver_file = tmp_path / "entailed.json"
    silver_file.write_text(json.dumps(ENTAILED))
    tiny = build_tiny_classifier(tmp_path / "tiny")
    gold = [NliPair("i like tea .", "i love tea .", 1), NliPair("i like tea .", "i hate tea .", -1)]
    cfg = ConsistencyConfig(model=str(tiny), epochs=1, batch_size=4, swap_augment=False, silver=str(silver_file),
                            silver_limit=2, silver_contradictions=True, output_dir=str(tmp_path / "out"))  # fmt: skip
    silver = build_silver_pairs(cfg)
    assert Counter(p.label for p in silver) == {1: 2, 0: 2, -1: 2}
    metrics = train_consistency(gold, [], cfg, silver)
    assert (metrics["n_train_gold"], metrics["n_train_silver"], metrics["n_train"]) == (2, 6, 8)
    assert metrics["config"]["silver"] == str(silver_file)
    # The trainer never reads the silver file itself, so a config naming one without its pairs is refused.
    with pytest.raises(ConfigError, match=r"ConsistencyConfig\.silver: expected silver pairs passed in exactly"):
        train_consistency(gold, [], cfg)
    assert build_silver_pairs(ConsistencyConfig(model=str(tiny))) == []
    with pytest.raises(ConfigError, match="silver_limit must be >= 1, got 0"):
        ConsistencyConfig(silver_limit=0)


def test_cli_train_consistency_reports_a_bad_silver_file(tmp_path, capsys):
    nli = tmp_path / "nli.txt"
    nli.write_text("i love tea .</s>i like tea .</s>positive\n")
    bad = tmp_path / "silver.json"
    bad.write_text('[["a."]]')
    tiny = build_tiny_classifier(tmp_path / "tiny")
    args = ["train", "consistency", "--train", str(nli), "--model", str(tiny), "--silver", str(bad),
            "--output_dir", str(tmp_path / "out")]  # fmt: skip
    assert main(args) != 0
    assert "silver.json: entry 0: expected [persona sentence, response]" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()

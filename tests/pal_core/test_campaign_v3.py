"""The pure parts of the v3 campaign's helper scripts (docs/results/pal_v3): stage-2 pair variants and the choice
rules, on hand-made inputs."""

import json
import sys
from pathlib import Path

import pytest

from pal_core.inference import prompts
from pal_core.training.records import check_preference, make_preference_record

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "docs" / "results" / "pal_v3"))
import choose  # noqa: E402
import pair_variants  # noqa: E402

PERSONA = ["i like to go hunting .", "i have two dogs ."]


def record(id: str, chosen: str, sentence: str | None) -> dict:
    provenance = {"source": "rejected-sampling", "model": "m", "example_id": id}
    return make_preference_record(
        id=id, persona=PERSONA, history=["hi"], persona_sentence=sentence, chosen=chosen, rejected="hello there",
        provenance=provenance,
    )  # fmt: skip


RECORDS = [
    record("a", "i like to go hunting with my dad", PERSONA[0]),  # restates sentence 1
    record("b", "my pups keep me busy", PERSONA[1]),  # grounded, no restating
    record("c", "what do you do for fun ?", None),  # uses no sentence
]


def test_filter_drops_the_pairs_whose_chosen_reply_restates():
    assert [r["id"] for r in pair_variants.variant_records(RECORDS, "filter")] == ["b", "c"]


def test_restate_negative_adds_the_sentence_as_rejected_where_the_reply_grounds():
    out = pair_variants.variant_records(RECORDS, "restate_negative")
    assert [r["id"] for r in out] == ["a", "b", "b:restate_negative", "c"]
    added = out[2]
    assert added["chosen"][0]["content"] == "my pups keep me busy" and added["rejected"][0]["content"] == PERSONA[1]
    assert added["prompt"] == RECORDS[1]["prompt"] and added["provenance"]["kind"] == "restate_negative"
    check_preference(added, "added")


def test_select_adds_one_select_task_pair_per_pair():
    out = pair_variants.variant_records(RECORDS, "select")
    assert [r["id"] for r in out] == ["a", "a:select", "b", "b:select", "c", "c:select"]
    answers = [(r["chosen"][0]["content"], r["rejected"][0]["content"]) for r in out[1::2]]
    assert answers == [
        ("1. i like to go hunting .", prompts.NONE_TEXT),
        ("2. i have two dogs .", prompts.NONE_TEXT),
        (prompts.NONE_TEXT, "1. i like to go hunting ."),
    ]
    assert out[1]["prompt"] == prompts.select_messages(PERSONA, ["hi"])
    for r in out:
        check_preference(r, r["id"])


def write_study(folder: Path, variants: dict) -> str:
    folder.mkdir()
    (folder / "select_study.json").write_text(json.dumps({"variants": variants}))
    return str(folder)


def study_entry(two_fold: float, top1: float, bias: float) -> dict:
    return {"two_fold": {"balanced_accuracy": two_fold}, "fitted": {"top1_among_sentences": top1, "none_bias": bias}}


def test_choose_selector_takes_the_best_two_fold_balanced_accuracy(tmp_path):
    a = write_study(tmp_path / "s1_attn", {"first": study_entry(0.6, 0.4, -1.0), "mean": study_entry(0.7, 0.3, -0.5)})
    b = write_study(tmp_path / "s1_all", {"first": study_entry(0.7, 0.5, -2.0), "sum": study_entry(0.5, 0.9, 0.0)})
    assert choose.choose_selector([a, b]) == f"{b} first -2.000000"  # 0.7 ties: the higher top-1 wins


def write_run(folder: Path, c: float, grounded: float) -> str:
    folder.mkdir()
    (folder / "metrics.json").write_text(json.dumps({"c_score": c, "grounded_without_restating": grounded}))
    return str(folder)


def test_choose_stage2_most_grounded_among_those_beating_sft(tmp_path, capsys):
    sft = write_run(tmp_path / "sft", 0.5, 0.3)
    runs = [write_run(tmp_path / "v2", 0.8, 0.2), write_run(tmp_path / "filter", 0.6, 0.35)]
    low = write_run(tmp_path / "select", 0.4, 0.9)  # most grounded, but its C-score is below SFT's
    assert choose.choose_stage2(sft, [*runs, low]) == runs[1]
    assert choose.choose_stage2(write_run(tmp_path / "strong_sft", 0.95, 0.1), [*runs, low]) == runs[0]
    assert "no stage-2 variant beats SFT" in capsys.readouterr().err


@pytest.mark.parametrize("variant", pair_variants.VARIANTS)
def test_every_variant_keeps_valid_records(variant):
    for r in pair_variants.variant_records(RECORDS, variant):
        check_preference(r, r["id"])

"""Tests for pal_core/analysis/significance.py against hand-computed values."""

import pytest

from pal_core.analysis.significance import paired_against_baseline, paired_bootstrap, selection_split, sign_test
from pal_core.errors import PalError


def test_paired_bootstrap_mean_and_interval():
    a = [1, 1, 0, 1, 0, 1, 1, 0, 1, 1]
    b = [0, 1, 0, 0, 0, 1, 0, 0, 1, 0]
    result = paired_bootstrap(a, b, n_resamples=2000, seed=1)
    assert result["mean_difference"] == pytest.approx(0.4) and result["n"] == 10
    assert 0.0 < result["ci_low"] < 0.4 < result["ci_high"] <= 0.8  # 4 of 10 differences are +1, none -1
    assert paired_bootstrap(a, a)["ci_low"] == paired_bootstrap(a, a)["ci_high"] == 0.0


def test_sign_test_counts_and_p_value():
    result = sign_test([1, 1, 1, 1, 1, 0, 0], [0, 0, 0, 0, 0, 0, 1])
    assert (result["a_higher"], result["b_higher"], result["ties"]) == (5, 1, 1)
    assert result["p_value"] == pytest.approx(14 / 64)  # two-sided binomial: P(X<=1 or X>=5), n=6, p=1/2
    assert sign_test([0, 1], [0, 1])["p_value"] == 1.0


def test_paired_inputs_must_match():
    with pytest.raises(
        PalError, match=r"paired_bootstrap: expected two equally long non-empty score lists, got 2 and 1"
    ):
        paired_bootstrap([1, 0], [1])


def test_selection_split_by_gold_label():
    rows = [
        {"gold_label": [-1], "selected_index": -1},
        {"gold_label": [-1], "selected_index": 2},
        {"gold_label": [0, 2], "selected_index": 2},
        {"gold_label": [1], "selected_index": -1},
        {"gold_label": None, "selected_index": 0},  # unlabelled: not scored
    ]
    split = selection_split(rows)
    assert split["selection_accuracy"] == 0.5
    assert split["selection_accuracy_gold_none"] == 0.5 and split["selection_accuracy_gold_sentence"] == 0.5
    assert (split["n_gold_none"], split["n_gold_sentence"], split["selected_none"]) == (2, 2, 2)


def test_paired_against_baseline_scores_c_and_grounded_per_reply():
    persona = ["i like to go hunting .", "i have two dogs ."]
    rows = [
        {"id": "t1", "persona": persona, "response": "hunting is my favorite hobby"},  # entailed, not restating
        {"id": "t2", "persona": persona, "response": "i have two dogs"},  # entailed, restating
        {"id": "t3", "persona": persona, "response": "hello"},  # neutral
    ]
    baseline = [
        dict(r, response=text) for r, text in zip(rows, ["i like to go hunting", "i hate dogs", "hi"], strict=True)
    ]
    labels = [[1, 0], [0, 1], [0, 0]]
    baseline_labels = [[1, 0], [-1, -1], [0, 0]]  # C per reply is the max: -1 only when all contradict
    result = paired_against_baseline(rows, labels, baseline, baseline_labels, n_resamples=500)
    # C per reply: system 1, 1, 0; baseline 1, -1, 0 -> differences 0, 2, 0
    assert result["c_score"]["system"] == pytest.approx(2 / 3)
    assert result["c_score"]["baseline"] == pytest.approx(0.0)
    assert result["c_score"]["bootstrap"]["mean_difference"] == pytest.approx(2 / 3)
    assert result["c_score"]["sign_test"] == {"a_higher": 1, "b_higher": 0, "ties": 2, "p_value": 1.0}
    # grounded without restating: system 1, 0, 0; baseline 0 (restates), 0, 0
    grounded = result["grounded_without_restating"]
    assert (grounded["system"], grounded["baseline"]) == (pytest.approx(1 / 3), 0.0)
    assert grounded["sign_test"]["a_higher"] == 1 and grounded["sign_test"]["b_higher"] == 0


def test_paired_against_baseline_needs_the_same_turns():
    rows = [{"id": "a", "persona": ["x"], "response": "y"}]
    with pytest.raises(PalError, match=r"paired_against_baseline: expected the same turns in the same order"):
        paired_against_baseline(rows, [[0]], [dict(rows[0], id="b")], [[0]])

"""Tests for pal_core.analysis.metrics: every module's doctest runs, and each metric is pinned to hand-computed values."""

import doctest
import importlib
import math

import evaluate
import pytest

from pal_core.analysis.metrics import (
    METRICS_DIR,
    TEXT_METRIC_KEYS,
    available_metrics,
    compute_text_metrics,
    load_metric,
)
from pal_core.errors import PalError, UnknownNameError

EXPECTED_METRICS = [
    "avg_length",
    "bleu",
    "c_score",
    "distinct",
    "grounded",
    "restatement",
    "rouge_l",
    "selection",
    "self_repetition",
]

# Two pairs used by the BLEU and ROUGE-L pins below (already lowercase, no punctuation: tokens = words).
HYPOTHESES = ["the cat sat on the mat", "the cat"]
GOLD = ["the cat is on the mat", "the cat sat on the mat"]


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """Loading must never need the hub."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_EVALUATE_OFFLINE", "1")


def test_available_metrics_lists_every_module():
    assert available_metrics() == EXPECTED_METRICS


@pytest.mark.parametrize("name", EXPECTED_METRICS)
def test_metric_doctest_passes(name):
    # As evaluate's tests/test_metric_common.py: import the module evaluate builds from the script, run its doctest.
    module_path = evaluate.loading.evaluation_module_factory(str(METRICS_DIR / name)).module_path
    module = importlib.import_module(module_path)
    results = doctest.testmod(module, raise_on_error=True)
    assert results.attempted >= 3
    assert results.failed == 0


@pytest.mark.parametrize("name", EXPECTED_METRICS)
def test_metric_info_is_documented(name):
    metric = load_metric(name)
    assert metric.info.description.strip()
    assert ">>>" in metric.info.inputs_description
    assert "predictions" in metric.info.features


def test_load_metric_unknown_name_lists_available():
    with pytest.raises(UnknownNameError, match=r"unknown metric 'blue'; available: avg_length, bleu, c_score"):
        load_metric("blue")


def test_bleu_matches_hand_computation():
    # Corpus counts (one reference per line, no smoothing):
    #   pair 1: 1-grams 5/6 match (the x2, cat, on, mat), 2-grams 3/5 (the cat, on the, the mat); lengths 6 vs 6
    #   pair 2: 1-grams 2/2, 2-grams 1/1; lengths 2 vs 6
    #   p1 = 7/8, p2 = 4/6, c = 8, r = 12, BP = exp(1 - 12/8) = exp(-0.5)
    #   BLEU-1 = 100 * BP * 7/8, BLEU-2 = 100 * BP * sqrt(7/8 * 4/6)
    #   3-grams: pair 1 matches "on the mat" (1 of 4), pair 2 has none (0 of 0) -> p3 = 1/4
    #   4-grams: pair 1 has none of 3 -> p4 = 0 -> BLEU-4 = 0 without smoothing
    result = load_metric("bleu").compute(predictions=HYPOTHESES, references=GOLD)
    bp = math.exp(-0.5)
    assert result["bleu_1"] == pytest.approx(100 * bp * 7 / 8)  # 53.07
    assert result["bleu_2"] == pytest.approx(100 * bp * math.sqrt(7 / 8 * 4 / 6))  # 46.32
    assert result["bleu_3"] == pytest.approx(100 * bp * (7 / 8 * 4 / 6 * 1 / 4) ** (1 / 3))
    assert result["bleu_4"] == 0.0


def test_bleu_never_swaps_hypothesis_and_reference():
    # Hypothesis "the cat" vs gold "the cat sat on the mat": p1 = 2/2, BP = exp(1 - 6/2) = exp(-2) -> 13.53.
    # Swapped, p1 = 2/6 and no brevity penalty -> 33.33; the metric must give the first.
    bleu = load_metric("bleu")
    right = bleu.compute(predictions=["the cat"], references=["the cat sat on the mat"])
    swapped = bleu.compute(predictions=["the cat sat on the mat"], references=["the cat"])
    assert right["bleu_1"] == pytest.approx(100 * math.exp(-2))
    assert swapped["bleu_1"] == pytest.approx(100 * 2 / 6)


def test_bleu_lowercases_and_splits_punctuation():
    bleu = load_metric("bleu")
    assert bleu.compute(predictions=["I like tea."], references=["i like tea ."])["bleu_1"] == pytest.approx(100.0)


def test_rouge_l_matches_hand_computation():
    # Pair 1: LCS "the cat on the mat" = 5, P = R = 5/6, F = 5/6. Pair 2: LCS 2, P = 2/2, R = 2/6, F = 0.5.
    result = load_metric("rouge_l").compute(predictions=HYPOTHESES, references=GOLD)
    assert result["rouge_l"] == pytest.approx(100 * (5 / 6 + 0.5) / 2)
    # Precision is over the prediction's length, recall over the reference's: swapping would exchange them.
    assert result["rouge_l_precision"] == pytest.approx(100 * (5 / 6 + 1) / 2)
    assert result["rouge_l_recall"] == pytest.approx(100 * (5 / 6 + 2 / 6) / 2)


def test_distinct_matches_hand_computation():
    # Tokens: [i, like, tea] + [i, like, dogs, .]: 7 unigrams, 5 distinct; bigrams i-like, like-tea, i-like,
    # like-dogs, dogs-. : 5, 4 distinct. "tea i" is not a bigram (n-grams never cross predictions).
    result = load_metric("distinct").compute(predictions=["I like tea", "i like dogs."])
    assert result == {"distinct_1": pytest.approx(5 / 7), "distinct_2": pytest.approx(4 / 5)}


def test_distinct_without_ngrams_is_zero():
    assert load_metric("distinct").compute(predictions=["hi", ""]) == {"distinct_1": 1.0, "distinct_2": 0.0}


def test_avg_length_counts_tokens():
    # "Hello, how are you?" -> hello , how are you ? = 6 tokens; "fine" = 1 -> mean 3.5
    assert load_metric("avg_length").compute(predictions=["Hello, how are you?", "fine"]) == {"avg_length": 3.5}


def test_selection_matches_hand_computation():
    # correct: 0 in [0], -1 == [-1], 2 in [1, 2], 1 not in [-1] -> accuracy 3/4
    # gold classes (prediction if in gold, else smallest gold): 0, -1, 2, -1
    #   class 0: P 1, R 1; class -1: P 1/1, R 1/2, F 2/3; class 2: P 1, R 1; class 1: P 0, R 0 (never gold)
    #   macro P = 3/4, R = 2.5/4, F = (1 + 2/3 + 1 + 0)/4
    result = load_metric("selection").compute(predictions=[0, -1, 2, 1], references=[[0], [-1], [1, 2], [-1]])
    assert result["selection_accuracy"] == pytest.approx(0.75)
    assert result["selection_precision"] == pytest.approx(0.75)
    assert result["selection_recall"] == pytest.approx(0.625)
    assert result["selection_f1"] == pytest.approx((2 + 2 / 3) / 4)
    assert result["selection_accuracy_gold_none"] == pytest.approx(0.5)
    assert result["selection_accuracy_gold_persona"] == pytest.approx(1.0)


def test_selection_macro_scores_a_hit_on_a_multi_index_gold_as_that_index():
    # Gold classes become [1, 0, -1, 2] (a right pick on [0, 1] counts as class 1, a miss on [0] as class 0).
    #   -1: P 1, R 1, F 1; 0: never predicted, P 0, R 0; 1: P 1/2, R 1, F 2/3; 2: P 0 (its one pick was wrong), R 0.
    result = load_metric("selection").compute(predictions=[1, 2, -1, 1], references=[[0, 1], [0], [-1], [2]])
    assert result["selection_precision"] == pytest.approx(1.5 / 4)
    assert result["selection_recall"] == pytest.approx(2 / 4)
    assert result["selection_f1"] == pytest.approx((1 + 2 / 3) / 4)


def test_selection_empty_subset_is_nan():
    result = load_metric("selection").compute(predictions=[0], references=[[0]])
    assert math.isnan(result["selection_accuracy_gold_none"])


def test_selection_rejects_mixed_none_label():
    with pytest.raises(PalError, match=r"selection: references\[0\]: expected indices >= 0 or exactly \[-1\]"):
        load_metric("selection").compute(predictions=[0], references=[[-1, 0]])


def test_c_score_max_and_sum_reductions():
    # max per response: 1, 0, -1 -> mean 0; sum per response: 0, 0, -2 -> mean -2/3
    labels = [[1, 0, -1], [0, 0], [-1, -1]]
    c_score = load_metric("c_score")
    assert c_score.compute(predictions=labels)["c_score"] == pytest.approx(0.0)
    assert c_score.compute(predictions=labels, reduction="sum")["c_score"] == pytest.approx(-2 / 3)


def test_c_score_rejects_bad_label_and_reduction():
    c_score = load_metric("c_score")
    with pytest.raises(PalError, match=r"c_score: predictions\[1\]: expected a non-empty list of -1/0/1, got \[2\]"):
        c_score.compute(predictions=[[1], [2]])
    with pytest.raises(PalError, match=r"c_score: expected reduction in \['max', 'sum'\], got 'mean'"):
        c_score.compute(predictions=[[1]], reduction="mean")


def test_compute_text_metrics_returns_contract_keys():
    result = compute_text_metrics(HYPOTHESES, GOLD)
    assert tuple(result) == TEXT_METRIC_KEYS
    assert result["bleu_1"] == pytest.approx(100 * math.exp(-0.5) * 7 / 8)
    # 8 tokens over 2 predictions; unigrams: the x3, cat x2, sat, on, mat -> 5 distinct of 8
    assert result["avg_length"] == 4.0
    assert result["distinct_1"] == pytest.approx(5 / 8)


def test_compute_text_metrics_rejects_length_mismatch():
    with pytest.raises(PalError, match=r"expected one reference per prediction, got 2 predictions and 1 references"):
        compute_text_metrics(HYPOTHESES, GOLD[:1])

"""The Leaderboard's tables (pal_core/analysis/leaderboard.py), the exact Spearman p-value and the one-line readings
of rank correlations (human.py) and agreement statistics (agreement.py)."""

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from pal_core.analysis import agreement, human, leaderboard


def test_exact_p_of_a_perfect_rank_correlation_over_four_systems_is_one_in_twelve():
    rho, p = human.rank_correlation({"a": 4, "b": 3, "c": 2, "d": 1}, {"a": 0.9, "b": 0.5, "c": 0.4, "d": 0.1})
    assert rho == pytest.approx(1.0) and p == pytest.approx(2 / 24, abs=1e-12)  # 2 of 24 orderings have |rho| = 1


@pytest.mark.parametrize("n", [4, 5, 6])
def test_exact_p_counts_every_ordering(n):
    rng = np.random.default_rng(n)
    x, y = rng.normal(size=n), rng.normal(size=n)
    observed = abs(stats.spearmanr(x, y).statistic)
    rhos = [abs(stats.spearmanr(x, list(perm)).statistic) for perm in itertools.permutations(y)]
    expected = sum(r >= observed - 1e-12 for r in rhos) / math.factorial(n)
    assert human.spearman_exact_p(x, y) == pytest.approx(expected, abs=1e-12)


def test_exact_p_is_nan_without_variation_and_scipy_above_eight_systems():
    assert math.isnan(human.spearman_exact_p([1, 1, 1, 1], [1, 2, 3, 4]))
    scores = {f"s{i}": float(i) for i in range(9)}
    other = {f"s{i}": float(i * i % 7) for i in range(9)}
    rho, p = human.rank_correlation(scores, other)
    assert p == pytest.approx(stats.spearmanr(list(scores.values()), list(other.values())).pvalue, abs=1e-12)


def test_describe_correlation_reads_rho_and_p():
    text = human.describe_correlation(1.0, 2 / 24, 4)
    assert text == (
        "rho 1.00 over 4 systems: the metric ranks the systems exactly in the same order as the humans. p = 0.083: "
        "random orderings of the systems correlate at least this strongly 8.3% of the time: too often to call it "
        "evidence."
    )
    assert "opposite order" in human.describe_correlation(
        -0.8, 0.01, 8
    ) and "evidence" not in human.describe_correlation(-0.8, 0.01, 8)


@pytest.mark.parametrize(
    ("value", "word"),
    [
        (-0.278, "below chance"),
        (0.1, "slight"),
        (0.3, "fair"),
        (0.58, "moderate"),
        (0.6, "substantial"),
        (0.9, "almost perfect"),
        (float("nan"), "undefined"),
    ],
)
def test_read_value_bands(value, word):
    assert agreement.read_value(value) == word


def test_negative_ordinal_alpha_beside_positive_kappas_is_explained():
    row = {
        "question": "consistency",
        "level": "ordinal",
        "n_units": 9,
        "krippendorff_alpha": -0.278,
        "fleiss_kappa": 0.58,
        "cohen_kappa_mean": 0.60,
    }
    text = agreement.read_row(row)
    assert text.startswith("alpha below chance, Fleiss' kappa moderate, Cohen's kappa substantial")
    assert "disagreements are far apart on the scale" in text
    nominal = agreement.read_row(row | {"level": "nominal", "fleiss_kappa": -0.1})
    assert "disagree more than random answers would" in nominal
    assert agreement.read_row(row | {"n_units": 0}) == "Undefined: no unit has two answers yet."


def test_rows_and_criteria_from_aggregates():
    counts = [
        {"system_a": "x", "system_b": "y", "preference": "A", "n": 2},
        {"system_a": "y", "system_b": "x", "preference": "tie", "n": 1},
    ]
    assert leaderboard.rows_from_counts(counts) == [
        {"system_a": "x", "system_b": "y", "preference": "A"},
        {"system_a": "x", "system_b": "y", "preference": "A"},
        {"system_a": "y", "system_b": "x", "preference": "tie"},
    ]
    means = [
        {"system": "x", "criterion": "consistency", "mean": 4.0, "n": 2},
        {"system": "x", "criterion": "fluency", "mean": 3.0, "n": 1},
    ]
    table = leaderboard.criteria_from_means(means, ["consistency"])
    assert table.to_dict("records") == [{"system": "x", "consistency": 4.0, "consistency_n": 2}]
    assert leaderboard.criteria_from_means([], ["consistency"]).empty


def test_lengths_use_the_avg_length_tokens_and_metrics_sit_beside_strength():
    assert leaderboard.token_length("I like dogs.") == 4  # punctuation is a token, as in avg_length
    df = pd.DataFrame([{"system_a": "x", "system_b": "y", "dialogue_id": "d1", "preference": "A"}])
    runs = {"x": {"rows": [{"id": "d1", "response": "a b c"}], "metrics": {"bleu_1": 1.0, "n": 5, "note": "text"}}}
    lengths = leaderboard.add_lengths(df, runs)
    assert lengths.loc[0, "len_a"] == 3 and lengths.loc[0, "len_b"] is None
    bt = pd.DataFrame({"system": ["x", "y"], "strength": [0.5, -0.5]})
    table = leaderboard.metrics_table(bt, runs)
    assert list(table.columns) == ["system", "strength", "bleu_1", "note"] and table["bleu_1"].isna().tolist() == [
        False,
        True,
    ]
    assert leaderboard.metric_correlations(table).empty  # 1 system with the metric: none shown
    four = pd.DataFrame(
        {"system": list("abcd"), "strength": [3.0, 2, 1, 0], "m": [30.0, 20, 10, 0], "note": ["t"] * 4}
    )
    corr = leaderboard.metric_correlations(four)
    assert corr[["metric", "n_systems"]].to_dict("records") == [{"metric": "m", "n_systems": 4}]  # text skipped
    assert corr.loc[0, "p_value"] == pytest.approx(2 / 24)

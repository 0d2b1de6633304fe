"""Tests for pal_core.analysis.human and pal_core.analysis.agreement: agreement statistics against hand-computed textbook values, Bradley-Terry recovery."""

import math

import numpy as np
import pandas as pd
import pytest

from pal_core.analysis import agreement
from pal_core.analysis import human as analysis
from pal_core.errors import DataFormatError, PalError, UnknownNameError

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers x 12 units, NaN = missing.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, np.nan, np.nan, np.nan],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, np.nan, 3],
    [np.nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, np.nan],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, np.nan],
]
# Wikipedia "Fleiss' kappa" worked example: 10 subjects, 14 raters, 5 categories; kappa = 0.210.
FLEISS_WIKIPEDIA = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


def judgement(item, user, a, b, preference, minute=0, **extra):
    row = {
        "item_id": item,
        "user": user,
        "system_a": a,
        "system_b": b,
        "preference": preference,
        "created_at": pd.Timestamp("2025-01-01", tz="UTC") + pd.Timedelta(minutes=minute),
    }
    return row | extra


def test_cohen_kappa_on_2x2_table():
    # 50 units: both yes 20, A yes/B no 5, A no/B yes 10, both no 15.
    # p_o = 35/50 = 0.7; P(A yes) = 0.5, P(B yes) = 0.6; p_e = 0.5*0.6 + 0.5*0.4 = 0.5; kappa = 0.2/0.5 = 0.4
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert agreement.cohen_kappa(a, b) == pytest.approx(0.4)


def test_cohen_kappa_drops_missing_and_rejects_length_mismatch():
    assert agreement.cohen_kappa(["x", "y", None], ["x", "y", "x"]) == pytest.approx(1.0)
    with pytest.raises(PalError, match=r"cohen_kappa: expected two label lists of equal length, got 2 and 1"):
        agreement.cohen_kappa(["x", "y"], ["x"])


def test_fleiss_kappa_wikipedia_example():
    assert agreement.fleiss_kappa(FLEISS_WIKIPEDIA) == pytest.approx(0.210, abs=5e-4)


def test_fleiss_kappa_rejects_unequal_rater_counts():
    with pytest.raises(PalError, match=r"expected the same number \(>= 2\) of ratings per unit, got \[2.0, 3.0\]"):
        agreement.fleiss_kappa([[1, 1], [2, 1]])


def test_krippendorff_alpha_hand_computed_nominal():
    # Rater 1: 1 1 2 2, rater 2: 1 2 2 2; unit 5 has one rating only and is not pairable.
    # Coincidences: o11 = 2, o12 = o21 = 1, o22 = 4; n1 = 3, n2 = 5, n = 8.
    # D_o = 2/8, D_e = 2*n1*n2 / (n(n-1)) = 30/56; alpha = 1 - (2/8)/(30/56) = 8/15
    data = [[1, 1, 2, 2, 1], [1, 2, 2, 2, np.nan]]
    assert agreement.krippendorff_alpha(data, level="nominal") == pytest.approx(8 / 15)


def test_krippendorff_alpha_published_example():
    # Values published in Krippendorff (2011) for the data above.
    assert agreement.krippendorff_alpha(KRIPPENDORFF_2011, level="nominal") == pytest.approx(0.743, abs=5e-4)
    assert agreement.krippendorff_alpha(KRIPPENDORFF_2011, level="interval") == pytest.approx(0.849, abs=5e-4)


def test_krippendorff_alpha_unknown_level_and_no_variation():
    with pytest.raises(UnknownNameError, match=r"unknown measurement level 'likert'; available: nominal, ordinal"):
        agreement.krippendorff_alpha([[1, 2]], level="likert")
    assert math.isnan(agreement.krippendorff_alpha([[1, 1], [1, 1]]))


def test_bradley_terry_ties_count_half():
    # x beats y twice and ties twice = 3 wins of 4 -> MLE log-odds s_x - s_y = log 3 (tiny regularisation).
    df = pd.DataFrame([judgement(i, "u", "x", "y", p, i) for i, p in enumerate(["A", "A", "tie", "both_bad"])])
    table = analysis.bradley_terry(df, n_bootstrap=0, regularization=1e-6).set_index("system")
    assert table.loc["x", "strength"] - table.loc["y", "strength"] == pytest.approx(math.log(3), abs=1e-3)
    assert table["strength"].sum() == pytest.approx(0.0, abs=1e-9)
    assert table["ci_low"].isna().all()
    assert table.loc["x", "n"] == 4


def test_bradley_terry_recovers_known_strengths():
    true = {"good": 1.0, "mid": 0.0, "bad": -1.0}
    rng = np.random.default_rng(1)
    rows = []
    for i in range(600):
        a, b = rng.choice(list(true), size=2, replace=False)
        p_a = 1 / (1 + math.exp(-(true[a] - true[b])))
        rows.append(judgement(i, f"u{i % 5}", a, b, "A" if rng.random() < p_a else "B", i))
    table = analysis.bradley_terry(pd.DataFrame(rows), n_bootstrap=100, seed=0)
    assert table["system"].tolist() == ["good", "mid", "bad"]
    for row in table.itertuples():
        assert row.ci_low < row.strength < row.ci_high
        assert row.strength == pytest.approx(true[row.system], abs=0.3)


def test_bradley_terry_perfect_separation_stays_finite():
    df = pd.DataFrame([judgement(i, "u", "x", "y", "A", i) for i in range(5)])
    table = analysis.bradley_terry(df, n_bootstrap=20)
    assert np.isfinite(table[["strength", "ci_low", "ci_high"]].to_numpy()).all()
    assert table["system"].tolist() == ["x", "y"]


def test_bradley_terry_rejects_bad_preference():
    df = pd.DataFrame([judgement(0, "u", "x", "y", "A"), judgement(1, "u", "x", "y", "C")])
    with pytest.raises(DataFormatError, match=r"bradley_terry: row 1: expected preference in \['A', 'B', 'tie'"):
        analysis.bradley_terry(df)


def test_win_rate_matrix_counts_ties_half_and_latest_judgement():
    rows = [
        judgement(1, "u1", "x", "y", "B", minute=0),  # superseded by the next row (same user and item, later)
        judgement(1, "u1", "x", "y", "A", minute=1),
        judgement(2, "u1", "y", "x", "tie", minute=2),
        judgement(3, "u1", "x", "z", "B", minute=3),
    ]
    matrix = analysis.win_rate_matrix(pd.DataFrame(rows))
    assert matrix.loc["x", "y"] == pytest.approx(0.75)  # one win + one tie of two
    assert matrix.loc["y", "x"] == pytest.approx(0.25)
    assert matrix.loc["z", "x"] == 1.0
    assert math.isnan(matrix.loc["y", "z"])


def test_criterion_scores_means_per_system():
    rows = [
        judgement(1, "u1", "x", "y", "A", consistency_a=5, consistency_b=2, fluency_a=4, fluency_b=4),
        judgement(2, "u1", "y", "x", "B", consistency_a=4, consistency_b=3, fluency_a=None, fluency_b=2),
    ]
    table = analysis.criterion_scores(pd.DataFrame(rows)).set_index("system")
    assert table.loc["x", "consistency"] == 4.0  # (5 + 3) / 2
    assert table.loc["y", "consistency"] == 3.0  # (2 + 4) / 2
    assert table.loc["y", "fluency"] == 4.0  # the missing rating is skipped
    assert table.loc["x", "n"] == 2


def test_agreement_by_question_matches_hand_computation():
    # Preferences, u1: A A B B, u2: A B B B (item 5 judged by u1 only, so left out).
    # Nominal alpha: same coincidences as the hand example above -> 8/15.
    # Cohen: p_o = 3/4, p_e = (2/4)(1/4) + (2/4)(3/4) = 1/2 -> kappa = 1/2.
    # Fleiss: P_i = 1, 0, 1, 1 -> mean 3/4; p_A = 3/8, p_B = 5/8 -> P_e = 34/64; kappa = (3/4 - 34/64)/(30/64) = 7/15
    u1, u2 = ["A", "A", "B", "B", "A"], ["A", "B", "B", "B"]
    rows = [judgement(i, "u1", "x", "y", p, i) for i, p in enumerate(u1)]
    rows += [judgement(i, "u2", "x", "y", p, 10 + i) for i, p in enumerate(u2)]
    rows.append(judgement(1, "u2", "x", "y", "A", minute=0))  # older than u2's "B" on item 1, so superseded
    table = agreement.agreement_by_question(pd.DataFrame(rows)).set_index("question")
    row = table.loc["preference"]
    assert (row["level"], row["n_units"], row["n_annotators"]) == ("nominal", 4, 2)
    assert row["krippendorff_alpha"] == pytest.approx(8 / 15)
    assert row["cohen_kappa_mean"] == pytest.approx(0.5)
    assert row["fleiss_kappa"] == pytest.approx(7 / 15)


def test_agreement_by_question_rates_each_side_as_a_unit():
    rows = [
        judgement(1, "u1", "x", "y", "A", consistency_a=5, consistency_b=1),
        judgement(1, "u2", "x", "y", "A", consistency_a=5, consistency_b=1),
        judgement(2, "u1", "x", "y", "B", consistency_a=2, consistency_b=4),
        judgement(2, "u2", "x", "y", "B", consistency_a=2, consistency_b=4),
    ]
    table = agreement.agreement_by_question(pd.DataFrame(rows)).set_index("question")
    assert table.loc["consistency", "n_units"] == 4
    assert table.loc["consistency", "level"] == "ordinal"
    assert table.loc["consistency", "krippendorff_alpha"] == pytest.approx(1.0)


def test_annotator_gold_accuracy():
    extra = {"seconds": 10.0, "is_gold": False, "gold_answer": None}
    rows = [
        judgement(1, "u1", "x", "y", "A", 0, seconds=10.0, is_gold=True, gold_answer="A"),
        judgement(2, "u1", "x", "y", "B", 1, seconds=30.0, is_gold=True, gold_answer="A"),
        judgement(3, "u1", "x", "y", "A", 2, seconds=20.0, is_gold=False, gold_answer=None),
        judgement(3, "u2", "x", "y", "A", 3, **extra),
    ]
    table = agreement.annotator_gold_accuracy(pd.DataFrame(rows)).set_index("user")
    assert table.loc["u1", "gold_accuracy"] == 0.5
    assert table.loc["u1", "median_seconds"] == 20.0
    assert (table.loc["u1", "n_judgements"], table.loc["u1", "n_gold"]) == (3, 2)
    assert table.loc["u2", "n_gold"] == 0
    assert math.isnan(table.loc["u2", "gold_accuracy"])


def test_length_vs_win():
    rows = [
        judgement(1, "u", "x", "y", "A", len_a=12, len_b=10),  # gap 2, longer won
        judgement(2, "u", "x", "y", "A", len_a=8, len_b=10),  # gap 2, shorter won
        judgement(3, "u", "x", "y", "B", len_a=5, len_b=30),  # gap 25, longer won
        judgement(4, "u", "x", "y", "tie", len_a=5, len_b=30),  # not decisive: left out
        judgement(5, "u", "x", "y", "B", len_a=7, len_b=7),  # same length: left out
    ]
    table = analysis.length_vs_win(pd.DataFrame(rows)).set_index("length_gap")
    assert table.loc["1-5", "n"] == 2 and table.loc["1-5", "longer_win_rate"] == 0.5
    assert table.loc[">20", "longer_win_rate"] == 1.0
    assert table.loc["6-10", "n"] == 0
    assert table.loc["all", "n"] == 3 and table.loc["all", "longer_win_rate"] == pytest.approx(2 / 3)


def test_length_vs_win_requires_lengths():
    with pytest.raises(DataFormatError, match=r"length_vs_win: expected judgement columns \['len_a', 'len_b'\]"):
        analysis.length_vs_win(pd.DataFrame([judgement(1, "u", "x", "y", "A")]))


def test_rank_correlation():
    human = {"a": 3.0, "b": 2.0, "c": 1.0, "d": 0.0, "x": 5.0}
    rho, p = analysis.rank_correlation(human, {"a": 30, "b": 25, "c": 4, "d": 2, "e": 1})
    assert rho == pytest.approx(1.0)  # a, b, c, d in the same order on both sides; x and e are not shared
    assert 0.0 <= p <= 1.0


def test_rank_correlation_refuses_fewer_than_four_systems():
    # three systems: rho can only be -1, -0.5, 0.5 or 1 and is never significant, so it is not reported
    with pytest.raises(
        PalError, match=r"rank_correlation: expected >= 4 systems scored by both, got \['a', 'b', 'c'\]"
    ):
        analysis.rank_correlation({"a": 3.0, "b": 2.0, "c": 1.0}, {"a": 30, "b": 25, "c": 4})


def test_unanswered_ratings_are_missing_not_values():
    rows = [
        judgement(1, "u1", "x", "y", "A", consistency_a=5, consistency_b=None, persona_used_a=-1, persona_used_b=None),
        judgement(1, "u2", "x", "y", "A", consistency_a=5, consistency_b=None, persona_used_a=-1, persona_used_b=None),
        judgement(2, "u1", "x", "y", "B", consistency_a=None, consistency_b=2, persona_used_a=0, persona_used_b=1),
        judgement(2, "u2", "x", "y", "B", consistency_a=None, consistency_b=2, persona_used_a=None, persona_used_b=1),
    ]
    df = pd.DataFrame(rows)
    scores = analysis.criterion_scores(df, ["consistency"]).set_index("system")
    assert list(scores.columns) == ["consistency", "consistency_n", "n"]  # fluency etc. are not asked: no column
    # x was judged 4 times and rated twice (5, 5): the two unanswered ratings are not counted as anything
    assert (scores.loc["x", "consistency"], scores.loc["x", "consistency_n"], scores.loc["x", "n"]) == (5.0, 2, 4)
    assert (scores.loc["y", "consistency"], scores.loc["y", "consistency_n"]) == (2.0, 2)
    table = agreement.agreement_by_question(df, ["consistency", "persona_used"]).set_index("question")
    assert list(table.index) == ["preference", "consistency", "persona_used"]
    # consistency: units 1:a and 2:b answered by both (the unanswered sides are missing, not a shared value)
    assert table.loc["consistency", "n_units"] == 2
    # persona_used: 1:a (-1, -1) and 2:b (1, 1) have two answers; 2:a has one answer, so no agreement
    assert table.loc["persona_used", "n_units"] == 2
    assert table.loc["persona_used", "level"] == "nominal"


def test_agreement_is_undefined_for_single_annotator_items():
    rows = [judgement(1, "u1", "x", "y", "A", consistency_a=3, consistency_b=3), judgement(2, "u2", "x", "y", "B")]
    table = agreement.agreement_by_question(pd.DataFrame(rows)).set_index("question")
    assert table.loc["preference", "n_units"] == 0
    assert math.isnan(table.loc["preference", "krippendorff_alpha"])


def test_annotators_faster_than_the_threshold_are_flagged():
    rows = [
        judgement(1, "fast", "x", "y", "A", seconds=1.6, is_gold=False, gold_answer=None),
        judgement(1, "slow", "x", "y", "A", seconds=12.0, is_gold=False, gold_answer=None),
    ]
    table = agreement.annotator_gold_accuracy(pd.DataFrame(rows), min_seconds=3.0).set_index("user")
    assert bool(table.loc["fast", "too_fast"]) and not bool(table.loc["slow", "too_fast"])


def test_describe_ranking_names_overlapping_intervals():
    table = pd.DataFrame(
        {
            "system": ["p", "q", "r"],
            "strength": [1.0, 0.8, -1.8],
            "ci_low": [0.5, 0.2, -2.5],
            "ci_high": [1.5, 1.1, -1.0],
        }
    )
    assert analysis.indistinguishable_pairs(table) == [("p", "q")]
    assert analysis.describe_ranking(table) == "Overlapping 95% intervals, so not distinguishable at 95%: p and q."
    separate = table.assign(ci_low=[0.9, 0.0, -2.5], ci_high=[1.5, 0.5, -1.0])
    assert "distinguishable at 95%" in analysis.describe_ranking(separate)
    assert analysis.indistinguishable_pairs(separate) == []

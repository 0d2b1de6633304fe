"""Tests for pal_core.analysis.active: adjacent-pair Wald intervals against the two-system closed form, and the
number of judgements still needed."""

import math

import numpy as np
import pandas as pd
import pytest

from pal_core.analysis import active
from pal_core.errors import DataFormatError


def frame(outcomes: dict[tuple[str, str], list[str]]) -> pd.DataFrame:
    """Judgement rows (one user each, so none is superseded) from (system_a, system_b) -> preferences."""
    rows = [
        {"item_id": i, "user": "u", "system_a": a, "system_b": b, "preference": p, "created_at": 0}
        for i, ((a, b), p) in enumerate(((pair, p) for pair, prefs in outcomes.items() for p in prefs))
    ]
    return pd.DataFrame(rows)


def test_two_systems_match_the_log_odds_and_its_wald_error():
    table = active.adjacent_pairs(frame({("x", "y"): ["A"] * 70 + ["B"] * 30}))
    (row,) = table.itertuples(index=False)
    assert (row.higher, row.lower) == ("x", "y")
    # the penalty (0.01) moves the estimate by well under 1%: log(70/30) and 1/sqrt(n p (1 - p))
    assert row.difference == pytest.approx(math.log(70 / 30), rel=1e-2)
    assert row.se == pytest.approx(1 / math.sqrt(100 * 0.7 * 0.3), rel=1e-2)
    assert row.ci_low == pytest.approx(row.difference - active.Z95 * row.se, rel=1e-12)
    assert row.separated  # 0.85 +- 0.43


def test_adjacent_pairs_follow_the_ranking_and_flag_overlap_with_a_tie():
    outcomes = {("a", "b"): ["A"] * 52 + ["B"] * 48, ("b", "c"): ["A"] * 90 + ["B"] * 10, ("a", "c"): ["A"] * 95}
    table = active.adjacent_pairs(frame(outcomes))
    assert list(zip(table["higher"], table["lower"], strict=True)) == [("a", "b"), ("b", "c")]
    assert list(table["separated"]) == [False, True]  # 52-48 cannot be told from a tie; 90-10 can
    assert (table["difference"] >= 0).all()
    with pytest.raises(DataFormatError, match=r"adjacent_pairs: expected at least one judgement, got 0"):
        active.adjacent_pairs(frame({}).reindex(columns=["system_a", "system_b", "preference"]))


def test_win_matrix_form_orders_systems_strongest_first():
    wins = np.array([[0.0, 10.0, 30.0], [30.0, 0.0, 35.0], [10.0, 5.0, 0.0]])  # 1 > 0 > 2
    order, diff, se = active.adjacent_differences(wins)
    assert list(order) == [1, 0, 2] and diff.shape == se.shape == (2,) and (se > 0).all()


def test_judgements_needed_scales_with_the_squared_standard_error():
    # 100 judgements so far; the worse pair: difference 0.2 +- 0.2, needs se 0.2 / 1.96 -> 1.96^2 x 100 in all
    assert (
        active.judgements_needed(100, np.array([0.2, 1.0]), np.array([0.2, 0.1]))
        == math.ceil(active.Z95**2 * 100) - 100
    )
    assert active.judgements_needed(100, np.array([1.0]), np.array([0.1])) == 0  # already separated
    assert active.judgements_needed(100, np.array([0.0, 1.0]), np.array([0.3, 0.1])) == math.inf  # a dead heat


def test_describe_judgements_needed_names_the_closest_pair_and_the_slots_left():
    df = frame({("a", "b"): ["A"] * 26 + ["B"] * 24, ("b", "c"): ["A"] * 45 + ["B"] * 5})
    sentence = active.describe_judgements_needed(df, remaining=40)
    table = active.adjacent_pairs(df)
    more = active.judgements_needed(100, table["difference"].to_numpy(), table["se"].to_numpy())
    assert more > 40
    assert sentence == (
        f"About {more} more judgements (at this mix of pairs) would likely give every adjacent pair a 95% interval "
        "that excludes a tie; the closest pair is the systems ranked 1 and 2. The project has only 40 judge slots left: add items or "
        "annotators per item."
    )
    separated = frame({("a", "b"): ["A"] * 45 + ["B"] * 5})
    assert active.describe_judgements_needed(separated).startswith("Every adjacent pair's 95% interval")
    tied = frame({("a", "b"): ["tie"] * 4})
    assert active.describe_judgements_needed(tied).startswith("So far the systems ranked 1 and 2 look exactly tied")

"""How settled a Bradley-Terry ranking is: the 95% interval of each adjacent pair's difference in log-strength, and
how many more judgements would likely separate every adjacent pair. Fits with pal_core.analysis.human's model; the
queue that serves the least settled pair first is db/queue_order.py (db never imports pal_core).

Intervals are Wald intervals from the curvature of the penalised log-likelihood at the fit (cheap enough to check
after every judgement, unlike the bootstrap); a pair is separated when its interval excludes 0 (a tie).
"""

import math

import numpy as np
import pandas as pd

from pal_core.analysis import human
from pal_core.errors import DataFormatError

Z95 = 1.959963984540054  # two-sided 95% normal quantile


def adjacent_differences(wins: np.ndarray, regularization: float = 0.01) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """From a win matrix (W[i, j] = wins of i over j, ties half): (systems ordered strongest first, the difference
    in log-strength of each adjacent pair in that order (>= 0), its standard error)."""
    strength = human._fit_bradley_terry(wins, regularization)
    games = wins + wins.T
    p = 1.0 / (1.0 + np.exp(-(strength[:, None] - strength[None, :])))
    curvature = games * p * (1.0 - p)
    covariance = np.linalg.inv(np.diag(curvature.sum(axis=1) + regularization) - curvature)
    order = np.argsort(-strength, kind="stable")
    hi, lo = order[:-1], order[1:]
    variance = covariance[hi, hi] + covariance[lo, lo] - 2.0 * covariance[hi, lo]
    return order, strength[hi] - strength[lo], np.sqrt(np.maximum(variance, 0.0))


def adjacent_pairs(df: pd.DataFrame, regularization: float = 0.01) -> pd.DataFrame:
    """One row per adjacent pair of the ranking (strongest first): higher, lower, difference (log-strength), se,
    ci_low, ci_high (95% Wald) and separated (the interval excludes a tie). Judgements as human.bradley_terry takes."""
    df = human.prepare_judgements(df, ["system_a", "system_b", "preference"], "adjacent_pairs")
    if df.empty:
        raise DataFormatError("adjacent_pairs: expected at least one judgement, got 0")
    systems, ia, ib, score_a = human._pair_arrays(df)
    order, diff, se = adjacent_differences(human._win_matrix(len(systems), ia, ib, score_a), regularization)
    names = [systems[i] for i in order]
    table = pd.DataFrame(
        {"higher": names[:-1], "lower": names[1:], "difference": diff, "se": se, "ci_low": diff - Z95 * se}
    )
    table["ci_high"] = diff + Z95 * se
    table["separated"] = table["ci_low"] > 0
    return table


def judgements_needed(n_judgements: int, difference: np.ndarray, se: np.ndarray) -> float:
    """More judgements until every adjacent pair's 95% interval excludes a tie, if the observed differences are the
    true ones and new judgements spread over the pairs as the old ones did (standard errors shrink as 1/sqrt(n)):
    0 when all are separated, inf when a pair's difference is exactly 0."""
    difference, se = np.abs(np.asarray(difference, dtype=float)), np.asarray(se, dtype=float)
    if np.all(difference - Z95 * se > 0):
        return 0
    if np.any(difference == 0):
        return math.inf
    factor = float(np.max((Z95 * se / difference) ** 2))
    return max(0, math.ceil(n_judgements * factor) - n_judgements)


def describe_judgements_needed(df: pd.DataFrame, remaining: int | None = None) -> str:
    """One plain sentence for the Leaderboard: how many more judgements likely separate every adjacent pair at 95%,
    and the closest pair; `remaining` (judge slots left in the project) adds a warning when that is not enough."""
    table = adjacent_pairs(df)
    n = len(human.prepare_judgements(df, ["preference"], "describe_judgements_needed"))
    more = judgements_needed(n, table["difference"].to_numpy(), table["se"].to_numpy())
    if more == 0:
        return "Every adjacent pair's 95% interval of the difference excludes a tie: no more judgements are needed."
    rank = int((table["difference"] / table["se"].where(table["se"] > 0)).fillna(0).to_numpy().argmin()) + 1
    pair = f"the systems ranked {rank} and {rank + 1}"  # ranks, not names: the caller shows the ranking beside it
    if math.isinf(more):
        return f"So far {pair} look exactly tied: no number of judgements is predicted to separate them."
    sentence = (
        f"About {more} more judgements (at this mix of pairs) would likely give every adjacent pair a 95% interval "
        f"that excludes a tie; the closest pair is {pair}."
    )
    if remaining is not None and more > remaining:
        sentence += f" The project has only {max(remaining, 0)} judge slots left: add items or annotators per item."
    return sentence

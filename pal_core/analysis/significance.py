"""Paired comparisons of two systems on the same turns: bootstrap interval of the mean difference, sign test, and
selection accuracy split by what the gold label says (no persona sentence vs a sentence)."""

from collections.abc import Sequence

import numpy as np
from scipy.stats import binomtest

from pal_core.errors import PalError


def _paired(a: Sequence[float], b: Sequence[float], where: str) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape or x.ndim != 1 or len(x) == 0:
        raise PalError(f"{where}: expected two equally long non-empty score lists, got {len(a)} and {len(b)}")
    return x, y


def paired_bootstrap(
    a: Sequence[float], b: Sequence[float], *, n_resamples: int = 10_000, seed: int = 0
) -> dict[str, float]:
    """Mean of a - b over the same items and its 95% percentile interval from resampling items with replacement."""
    x, y = _paired(a, b, "paired_bootstrap")
    diff = x - y
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), size=(n_resamples, len(diff)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return {"mean_difference": float(diff.mean()), "ci_low": float(low), "ci_high": float(high), "n": len(diff)}


def sign_test(a: Sequence[float], b: Sequence[float]) -> dict[str, float]:
    """Two-sided sign test over the items where a and b differ: how often a is higher, and the binomial p-value."""
    x, y = _paired(a, b, "sign_test")
    higher, lower = int((x > y).sum()), int((x < y).sum())
    p = binomtest(higher, higher + lower, 0.5).pvalue if higher + lower else 1.0
    return {"a_higher": higher, "b_higher": lower, "ties": len(x) - higher - lower, "p_value": float(p)}


def selection_split(rows: Sequence[dict]) -> dict[str, float | int | None]:
    """Selection accuracy (the selected index is in the gold set; -1 = none) over all labelled rows, over rows whose
    gold label is "none" and over rows whose gold label names a sentence; also how often "none" was selected."""
    scored = [r for r in rows if r.get("gold_label") is not None and r.get("selected_index") is not None]
    none = [r for r in scored if list(r["gold_label"]) == [-1]]
    some = [r for r in scored if list(r["gold_label"]) != [-1]]

    def accuracy(part: list[dict]) -> float | None:
        return sum(r["selected_index"] in r["gold_label"] for r in part) / len(part) if part else None

    return {
        "selection_accuracy": accuracy(scored),
        "selection_accuracy_gold_none": accuracy(none),
        "selection_accuracy_gold_sentence": accuracy(some),
        "n_gold_none": len(none),
        "n_gold_sentence": len(some),
        "selected_none": sum(r["selected_index"] == -1 for r in scored),
    }

"""Paired comparisons of two systems on the same turns: bootstrap interval of the mean difference, sign test, both
applied to per-reply C-score and grounded-without-restating against a baseline (`paired_against_baseline`), and
selection accuracy split by what the gold label says (no persona sentence vs a sentence)."""

import math
from collections.abc import Sequence

import numpy as np
from scipy.stats import binomtest

from pal_core.analysis import grounding
from pal_core.analysis.metrics import load_metric
from pal_core.errors import PalError

# Per-reply scores compared against a baseline: name -> score of (reply, persona, per-sentence NLI labels).
PAIRED_SCORES = {
    "c_score": lambda reply, persona, labels: max(labels),  # C-score's "max" reduction, one reply
    "grounded_without_restating": lambda reply, persona, labels: float(
        grounding.grounded_without_restating(reply, persona, labels)
    ),
}


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


def paired_against_baseline(
    rows: Sequence[dict],
    labels: Sequence[Sequence[int]],
    baseline_rows: Sequence[dict],
    baseline_labels: Sequence[Sequence[int]],
    *,
    n_resamples: int = 10_000,
    seed: int = 0,
) -> dict[str, dict]:
    """For each of PAIRED_SCORES: the paired bootstrap interval and sign test of a system's per-reply score minus the
    baseline's on the same turns. Rows are run output rows (`id`, `response`, `persona`); labels are the consistency
    model's per-sentence decisions for each reply (scoring.nli_labels)."""
    if [r.get("id") for r in rows] != [r.get("id") for r in baseline_rows]:
        raise PalError(
            f"paired_against_baseline: expected the same turns in the same order, got {len(rows)} and "
            f"{len(baseline_rows)} rows whose ids differ"
        )
    out = {}
    for name, score in PAIRED_SCORES.items():
        a = [score(r["response"], r["persona"], lab) for r, lab in zip(rows, labels, strict=True)]
        b = [score(r["response"], r["persona"], lab) for r, lab in zip(baseline_rows, baseline_labels, strict=True)]
        out[name] = {
            "system": float(np.mean(a)),
            "baseline": float(np.mean(b)),
            "bootstrap": paired_bootstrap(a, b, n_resamples=n_resamples, seed=seed),
            "sign_test": sign_test(a, b),
        }
    return out


def _none_if_nan(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def selection_split(rows: Sequence[dict]) -> dict[str, float | int | None]:
    """Selection accuracy (the selection metric module: the selected index is in the gold set; -1 = none) over all
    labelled rows, over rows whose gold label is "none" and over rows whose gold label names a sentence (None for an
    empty part); also how often "none" was selected."""
    scored = [r for r in rows if r.get("gold_label") is not None and r.get("selected_index") is not None]
    n_none = sum(list(r["gold_label"]) == [-1] for r in scored)
    out: dict[str, float | int | None] = {
        "selection_accuracy": None,
        "selection_accuracy_gold_none": None,
        "selection_accuracy_gold_sentence": None,
    }
    if scored:
        result = load_metric("selection").compute(
            predictions=[r["selected_index"] for r in scored], references=[list(r["gold_label"]) for r in scored]
        )
        out["selection_accuracy"] = float(result["selection_accuracy"])
        out["selection_accuracy_gold_none"] = _none_if_nan(result["selection_accuracy_gold_none"])
        out["selection_accuracy_gold_sentence"] = _none_if_nan(result["selection_accuracy_gold_persona"])
    out.update(
        n_gold_none=n_none,
        n_gold_sentence=len(scored) - n_none,
        selected_none=sum(r["selected_index"] == -1 for r in scored),
    )
    return out

"""How well a scoring selector separates "none" from "a sentence", and the none bias that balances it.

Inputs are raw candidate scores per turn (one per persona sentence, then the none candidate's, as
LMSelector.raw_scores gives them) and gold labels ([-1] = no sentence, else the used indices). The selector picks the
argmax after adding a bias to the none score; a tie goes to the sentence (torch.argmax takes the first maximum).

- none/sentence balanced accuracy: the mean of the share of gold-none turns that got "none" and the share of
  gold-sentence turns that got some sentence (which sentence does not matter here);
- top-1 among the sentences: on gold-sentence turns, whether the best-scored *sentence* (none left out) is a gold one,
  against chance (the mean of |gold| / |persona| over those turns);
- `fit_none_bias`: the bias that maximises the balanced accuracy, searched exactly over every point where a decision
  flips (0, the midpoints between the sorted flip points, one below and one above); ties go to the smallest |bias|.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pal_core.analysis.metrics import load_metric
from pal_core.errors import PalError

NONE = -1


def _margins(scores: Sequence[Sequence[float]]) -> np.ndarray:
    """none score minus the best sentence score, per turn."""
    if not scores or any(len(s) < 2 for s in scores):
        raise PalError("selection study: expected per turn at least one sentence score and the none score")
    return np.array([s[-1] - max(s[:-1]) for s in scores], dtype=float)


def _gold_none(gold: Sequence[Sequence[int]]) -> np.ndarray:
    return np.array([list(g) == [NONE] for g in gold])


def select_with_bias(scores: Sequence[Sequence[float]], bias: float = 0.0) -> list[int]:
    """The selected index per turn (-1 = none) after adding `bias` to the none score."""
    out = []
    for s in scores:
        best = int(np.argmax(s[:-1]))
        out.append(NONE if s[-1] + bias > s[best] else best)
    return out


def balanced_accuracy(selected: Sequence[int], gold: Sequence[Sequence[int]]) -> float:
    """Mean of the none recall (gold none -> none) and the sentence recall (gold sentence -> any sentence)."""
    is_none, said_none = _gold_none(gold), np.array([s == NONE for s in selected])
    if is_none.all() or not is_none.any():
        raise PalError("balanced_accuracy: expected gold-none and gold-sentence turns, got only one kind")
    return float((said_none[is_none].mean() + (~said_none[~is_none]).mean()) / 2)


def top1_among_sentences(scores: Sequence[Sequence[float]], gold: Sequence[Sequence[int]]) -> dict[str, float]:
    """On gold-sentence turns: share whose best-scored sentence is gold, chance of that, and how many turns."""
    turns = [(s, g) for s, g in zip(scores, gold, strict=True) if list(g) != [NONE]]
    if not turns:
        return {"top1_among_sentences": float("nan"), "top1_chance": float("nan"), "n_gold_sentence": 0}
    hits = [int(np.argmax(s[:-1])) in g for s, g in turns]
    chance = [len(g) / (len(s) - 1) for s, g in turns]
    return {
        "top1_among_sentences": float(np.mean(hits)),
        "top1_chance": float(np.mean(chance)),
        "n_gold_sentence": len(turns),
    }


def fit_none_bias(scores: Sequence[Sequence[float]], gold: Sequence[Sequence[int]]) -> dict[str, float]:
    """The none bias with the highest none/sentence balanced accuracy on these turns, and that accuracy."""
    flips = np.unique(-_margins(scores))  # at bias b a turn says none iff margin + b > 0, i.e. b > -margin
    candidates = np.concatenate([[0.0, flips[0] - 1.0], (flips[1:] + flips[:-1]) / 2, [flips[-1] + 1.0]])
    best_bias, best_acc = 0.0, -1.0
    for bias in sorted(candidates, key=abs):
        acc = balanced_accuracy(select_with_bias(scores, float(bias)), gold)
        if acc > best_acc:
            best_bias, best_acc = float(bias), acc
    return {"none_bias": best_bias, "balanced_accuracy": best_acc}


def study_row(scores: Sequence[Sequence[float]], gold: Sequence[Sequence[int]], bias: float = 0.0) -> dict:
    """One row of the scoring-variant table: selection accuracy (selection metric module), none/sentence balanced
    accuracy, share of turns that said none, top-1 among the sentences against chance; at the given none bias."""
    selected = select_with_bias(scores, bias)
    accuracy = load_metric("selection").compute(predictions=selected, references=[list(g) for g in gold])
    return {
        "none_bias": bias,
        "selection_accuracy": float(accuracy["selection_accuracy"]),
        "balanced_accuracy": balanced_accuracy(selected, gold),
        "selected_none": float(np.mean([s == NONE for s in selected])),
        **top1_among_sentences(scores, gold),
        "n": len(selected),
    }

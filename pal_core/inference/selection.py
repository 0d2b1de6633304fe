"""What every persona selector returns: the `Selection` record, the `Selector` interface and the two ways a
selection is made from scores (`make_selection`, `one_hot`). Selectors live in `selectors.py` and `lm_selector.py`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pal_core.data.loaders import Example


@dataclass(frozen=True)
class Selection:
    """One selector decision: `index` is 0-based or -1 (none); `scores` has len(persona) + 1 entries, none last."""

    index: int
    scores: list[float]
    sentence: str | None


class Selector(Protocol):
    """Anything that picks a persona sentence (or none) for each example of a batch."""

    def select(self, batch: list[Example]) -> list[Selection]: ...


def make_selection(index: int, scores: list[float], persona: tuple[str, ...]) -> Selection:
    return Selection(index=index, scores=scores, sentence=persona[index] if index >= 0 else None)


def one_hot(index: int, n_persona: int) -> list[float]:
    """Scores of a hard decision: 1 for the chosen sentence (or for none, the last entry), 0 elsewhere."""
    scores = [0.0] * (n_persona + 1)
    scores[index if index >= 0 else n_persona] = 1.0
    return scores

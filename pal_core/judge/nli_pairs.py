"""Labelled (persona sentence, response) pairs for the consistency classifier: the pair type, the reader of the
rcdg / Dialogue NLI `sentence</s>sentence</s>label` files and the dev-set scoring (accuracy, confusion matrix).

Holds no model code: `evaluate_pairs` scores a loaded `ConsistencyModel`; training is in train.py.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pal_core.data.loaders import open_text
from pal_core.errors import DataFormatError
from pal_core.judge.classifier import CLASS_NAMES, ConsistencyModel

FILE_LABELS = {"negative": -1, "neutral": 0, "positive": 1}  # DNLI / rcdg nli-*.txt labels


@dataclass(frozen=True)
class NliPair:
    """One labelled pair; label is +1 entail, 0 neutral, -1 contradict."""

    persona: str
    response: str
    label: int


def load_nli_pairs(path: str | Path) -> list[NliPair]:
    """Read an rcdg/DNLI `sentence</s>sentence</s>label` file (gzip sniffed): utterance first, persona sentence
    second."""
    path = Path(path)
    pairs = []
    with open_text(path) as f:
        for lineno, line in enumerate(f, start=1):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            parts = line.split("</s>")
            if len(parts) != 3 or parts[2].strip() not in FILE_LABELS or not parts[0].strip() or not parts[1].strip():
                raise DataFormatError(
                    f"{path}:{lineno}: expected 'sentence</s>sentence</s>label' with label in "
                    f"{'/'.join(FILE_LABELS)}, got {line[:80]!r}"
                )
            pairs.append(
                NliPair(persona=parts[1].strip(), response=parts[0].strip(), label=FILE_LABELS[parts[2].strip()])
            )
    if not pairs:
        raise DataFormatError(f"{path}: expected at least one pair, got an empty file")
    return pairs


def evaluate_pairs(model: ConsistencyModel, pairs: Sequence[NliPair], batch_size: int = 64) -> dict:
    """Accuracy, per-class recall and the confusion matrix (rows gold, columns predicted, CLASS_NAMES order)."""
    predicted = model.predict([(p.persona, p.response) for p in pairs], batch_size)
    confusion = [[0, 0, 0] for _ in CLASS_NAMES]
    for pair, label in zip(pairs, predicted, strict=True):
        confusion[pair.label + 1][label + 1] += 1
    per_class = {
        name: row[i] / sum(row) if sum(row) else 0.0
        for i, (name, row) in enumerate(zip(CLASS_NAMES, confusion, strict=True))
    }
    correct = sum(confusion[i][i] for i in range(3))
    return {"accuracy": correct / len(pairs), "per_class_accuracy": per_class, "confusion": confusion, "n": len(pairs)}

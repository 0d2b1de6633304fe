"""Persona selection accuracy and macro precision/recall/F1 against gold labels, with "none" (-1) as a class."""

import evaluate
from sklearn.metrics import precision_recall_fscore_support

from pal_core.analysis.metrics.info import INDEX, INDEX_LIST, metric_info
from pal_core.errors import PalError

_DESCRIPTION = """
Scores the persona sentence a selector picked against the gold persona label. A prediction is one 0-based persona
index, or -1 for "no persona sentence". A reference is the gold label list: the indices the gold response uses
(any of them counts as right), or [-1] when it uses none.
- accuracy: share of predictions found in their gold list (so -1 is right exactly when the gold is [-1]); also given
  separately on the gold-none subset and the gold-persona subset (NaN when a subset is empty).
- precision / recall / F1: macro averages over the classes {none, 0, 1, ...} seen in the gold lists or predictions,
  as single-label multi-class scoring where each example's gold class is the prediction if it is in the gold list,
  else the smallest gold index, computed by scikit-learn (`precision_recall_fscore_support`, average="macro",
  zero_division=0: a class never predicted has precision 0, a class never gold has recall 0).
All scores are on a 0-1 scale.
"""

_CITATION = ""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `int`): selected persona index per example, -1 for none.
    references (`list` of `list` of `int`): gold label list per example, [-1] for none.
Returns:
    selection_accuracy, selection_precision, selection_recall, selection_f1 (`float`),
    selection_accuracy_gold_none, selection_accuracy_gold_persona (`float`, NaN for an empty subset).
Examples:
    >>> from pal_core.analysis.metrics import load_metric
    >>> selection = load_metric("selection")
    >>> results = selection.compute(predictions=[0, -1, 2, 1], references=[[0], [-1], [1, 2], [-1]])
    >>> print({k: round(v, 4) for k, v in results.items()})
    {'selection_accuracy': 0.75, 'selection_precision': 0.75, 'selection_recall': 0.625, 'selection_f1': 0.6667, \
'selection_accuracy_gold_none': 0.5, 'selection_accuracy_gold_persona': 1.0}
"""

NONE = -1


def _check(index: int, prediction: int, gold: list[int]) -> None:
    if prediction < NONE:
        raise PalError(f"selection: predictions[{index}]: expected an index >= 0 or -1 (none), got {prediction}")
    if not gold or any(g < NONE for g in gold) or (NONE in gold and len(gold) > 1):
        raise PalError(f"selection: references[{index}]: expected indices >= 0 or exactly [-1], got {gold}")


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Selection(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        return metric_info(_DESCRIPTION, _CITATION, _KWARGS_DESCRIPTION, predictions=INDEX, references=INDEX_LIST)

    def _compute(self, predictions: list[int], references: list[list[int]]) -> dict[str, float]:
        if not predictions:
            raise PalError("selection: expected at least one prediction, got 0")
        correct, gold_classes = [], []
        for index, (prediction, gold) in enumerate(zip(predictions, references, strict=True)):
            _check(index, prediction, gold)
            correct.append(prediction in gold)
            gold_classes.append(prediction if prediction in gold else min(gold))
        # Macro averages over the classes seen in either list; a class with no prediction (no gold) scores 0.
        precision, recall, f1, _ = precision_recall_fscore_support(
            gold_classes, predictions, average="macro", zero_division=0
        )
        none_hits = [ok for ok, gold in zip(correct, references, strict=True) if gold == [NONE]]
        persona_hits = [ok for ok, gold in zip(correct, references, strict=True) if gold != [NONE]]
        return {
            "selection_accuracy": sum(correct) / len(correct),
            "selection_precision": float(precision),
            "selection_recall": float(recall),
            "selection_f1": float(f1),
            "selection_accuracy_gold_none": sum(none_hits) / len(none_hits) if none_hits else float("nan"),
            "selection_accuracy_gold_persona": sum(persona_hits) / len(persona_hits) if persona_hits else float("nan"),
        }

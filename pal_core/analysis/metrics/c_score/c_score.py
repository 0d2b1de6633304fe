"""C-score: persona consistency of responses from NLI labels (+1 entail, 0 neutral, -1 contradict) per persona line."""

import evaluate

from pal_core.analysis.metrics.info import INDEX_LIST, metric_info
from pal_core.errors import PalError

_DESCRIPTION = """
Consistency score (C-score) of responses with their persona. A prediction is the list of NLI labels of one response
against each of its persona sentences: 1 = entailed, 0 = neutral, -1 = contradicted (pal_core.judge.classifier produces
them). Per response the labels are reduced over persona sentences: "max" (default, as in PAL's evaluation: one
entailed sentence gives +1; -1 only when every sentence is contradicted) or "sum" (Madotto et al., 2019, which
rewards using several sentences and penalises every contradiction). The corpus C-score is the mean over responses.
Also returned: the share of responses with at least one contradicted sentence, and with at least one entailed one.
"""

_CITATION = """
@inproceedings{madotto-etal-2019-personalizing, title = "Personalizing Dialogue Agents via Meta-Learning",
  author = "Madotto, Andrea and Lin, Zhaojiang and Wu, Chien-Sheng and Fung, Pascale", booktitle = "ACL", year = "2019"}
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `int`): per response, one label in {1, 0, -1} per persona sentence.
    reduction (`str`, default `"max"`): "max" or "sum" over a response's persona sentences.
Returns:
    c_score (`float`): mean per-response score.
    contradiction_rate, entailment_rate (`float`): share of responses with any -1 / any +1 label, 0-1.
Examples:
    >>> from pal_core.analysis.metrics import load_metric
    >>> c_score = load_metric("c_score")
    >>> c_score.compute(predictions=[[1, 0, -1], [0, 0], [-1, -1]])
    {'c_score': 0.0, 'contradiction_rate': 0.6666666666666666, 'entailment_rate': 0.3333333333333333}
"""

LABELS = (-1, 0, 1)
REDUCTIONS = {"max": max, "sum": sum}


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class CScore(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        return metric_info(_DESCRIPTION, _CITATION, _KWARGS_DESCRIPTION, predictions=INDEX_LIST)

    def _compute(self, predictions: list[list[int]], reduction: str = "max") -> dict[str, float]:
        if reduction not in REDUCTIONS:
            raise PalError(f"c_score: expected reduction in {sorted(REDUCTIONS)}, got {reduction!r}")
        if not predictions:
            raise PalError("c_score: expected at least one prediction, got 0")
        for index, labels in enumerate(predictions):
            if not labels or any(label not in LABELS for label in labels):
                raise PalError(f"c_score: predictions[{index}]: expected a non-empty list of -1/0/1, got {labels}")
        reduce = REDUCTIONS[reduction]
        n = len(predictions)
        return {
            "c_score": sum(reduce(labels) for labels in predictions) / n,
            "contradiction_rate": sum(-1 in labels for labels in predictions) / n,
            "entailment_rate": sum(1 in labels for labels in predictions) / n,
        }

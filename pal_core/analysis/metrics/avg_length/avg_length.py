"""Average response length in tokens (BLEU's lowercased 13a tokens), over predictions only."""

import evaluate

from pal_core.analysis.metrics.info import TEXT, metric_info
from pal_core.analysis.metrics.tokens import reply_length
from pal_core.errors import PalError

_DESCRIPTION = """
Mean number of tokens per prediction, with the tokens BLEU and Distinct use: lowercased text split by sacrebleu's
"13a" tokenizer, so punctuation marks count as tokens ("i like dogs." has 4). With this choice the Distinct-1
denominator equals avg_length times the number of predictions. References are not used, so none are passed.
"""

_CITATION = ""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `str`): system responses.
Returns:
    avg_length (`float`): mean tokens per prediction.
Examples:
    >>> from pal_core.analysis.metrics import load_metric
    >>> avg_length = load_metric("avg_length")
    >>> avg_length.compute(predictions=["i like tea", "i like dogs."])
    {'avg_length': 3.5}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class AvgLength(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        return metric_info(_DESCRIPTION, _CITATION, _KWARGS_DESCRIPTION, predictions=TEXT)

    def _compute(self, predictions: list[str]) -> dict[str, float]:
        if not predictions:
            raise PalError("avg_length: expected at least one prediction, got 0")
        return {"avg_length": sum(reply_length(text) for text in predictions) / len(predictions)}

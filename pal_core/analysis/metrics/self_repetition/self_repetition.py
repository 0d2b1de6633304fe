"""Self-repetition: share of replies that say one of their own word 3-grams twice."""

import evaluate

from pal_core.analysis import grounding
from pal_core.analysis.metrics.info import TEXT, metric_info
from pal_core.errors import PalError

_DESCRIPTION = """
A reply repeats itself when one of its word n-grams (default n = 3) occurs twice in it, overlapping occurrences
included: "i love to meet new people and i love to meet new people" repeats "i love to". Words are lower-cased
letters, digits and apostrophes, punctuation dropped (pal_core.analysis.grounding.words), so "i like it . i like it"
repeats too. Greedy decoding of a small model loops like this; Distinct-n, a corpus ratio, hides it per reply.
References are not used, so none are passed.
"""

_CITATION = ""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `str`): system replies.
    n (`int`, default 3): n-gram order.
Returns:
    self_repetition (`float`): share of replies that repeat one of their own n-grams, 0-1.
Examples:
    >>> from pal_core.analysis.metrics import load_metric
    >>> self_repetition = load_metric("self_repetition")
    >>> self_repetition.compute(predictions=["i love to meet new people and i love to meet new people", "hi there"])
    {'self_repetition': 0.5}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class SelfRepetition(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        return metric_info(_DESCRIPTION, _CITATION, _KWARGS_DESCRIPTION, predictions=TEXT)

    def _compute(self, predictions: list[str], n: int = grounding.REPETITION_N) -> dict[str, float]:
        if not predictions:
            raise PalError("self_repetition: expected at least one prediction, got 0")
        if n < 1:
            raise PalError(f"self_repetition: expected n >= 1, got {n}")
        repeated = sum(grounding.repeated_ngram(reply, n) is not None for reply in predictions)
        return {"self_repetition": repeated / len(predictions)}

"""Restatement rate: share of replies that hold >= 80% of the content words of one of their persona sentences."""

import datasets
import evaluate

from pal_core.analysis import grounding
from pal_core.analysis.metrics.info import TEXT, metric_info
from pal_core.errors import PalError

_DESCRIPTION = """
A reply restates its persona when it contains at least `threshold` (default 0.8) of the content words of some
persona sentence: lower-cased word tokens minus a short stop-word list (pal_core.analysis.grounding.STOPWORDS:
articles, pronouns, be/do/have, modals, common prepositions and conjunctions, not/no/yes, wh-words). Copying a
persona sentence into the reply scores high on persona-consistency classifiers without using the persona in any
new way; this rate shows how much of a C-score is such copying. `references` are not gold replies here but each
reply's persona sentences. Also returned: the mean over replies of the best coverage of one persona sentence.
"""

_CITATION = ""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `str`): system replies.
    references (`list` of `list` of `str`): the persona sentences of each reply.
    threshold (`float`, default 0.8): coverage from which a reply counts as a restatement.
Returns:
    restatement_rate (`float`): share of replies that restate a persona sentence, 0-1.
    persona_coverage (`float`): mean over replies of the highest share of one sentence's content words, 0-1.
Examples:
    >>> from pal_core.analysis.metrics import load_metric
    >>> restatement = load_metric("restatement")
    >>> restatement.compute(
    ...     predictions=["i love to meet new people !", "i met some people"],
    ...     references=[["i love to meet new people ."], ["i love to meet new people ."]],
    ... )
    {'restatement_rate': 0.5, 'persona_coverage': 0.625}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Restatement(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        return metric_info(
            _DESCRIPTION, _CITATION, _KWARGS_DESCRIPTION, predictions=TEXT, references=datasets.List(TEXT)
        )

    def _compute(
        self, predictions: list[str], references: list[list[str]], threshold: float = grounding.RESTATEMENT_THRESHOLD
    ) -> dict[str, float]:
        if not predictions:
            raise PalError("restatement: expected at least one prediction, got 0")
        if not 0 < threshold <= 1:
            raise PalError(f"restatement: expected a threshold in (0, 1], got {threshold}")
        for index, persona in enumerate(references):
            if not persona:
                raise PalError(f"restatement: references[{index}]: expected the reply's persona sentences, got none")
        best = [
            grounding.restatement(reply, persona)[1] for reply, persona in zip(predictions, references, strict=True)
        ]
        return {
            "restatement_rate": sum(cov >= threshold for cov in best) / len(best),
            "persona_coverage": sum(best) / len(best),
        }

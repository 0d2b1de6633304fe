"""Grounded without restating: share of replies entailed by some persona sentence that do not restate one."""

import datasets
import evaluate

from pal_core.analysis import grounding
from pal_core.analysis.metrics.info import TEXT, metric_info
from pal_core.errors import PalError

_DESCRIPTION = """
A reply is *grounded without restating* when the consistency classifier finds it entailed by at least one of its
persona sentences (an NLI label of +1, as C-score takes them) and it is not a restatement (it holds less than
`threshold`, default 0.8, of every persona sentence's content words; see the restatement metric). This is the
persona used at the semantic level: "hunting is one of my favorite hobbies" for "i like to go hunting", not
"i like to go hunting". `references` are each reply's persona sentences; `labels` are the classifier's per-sentence
decisions (1 entail, 0 neutral, -1 contradict; pal_core.judge.classifier), one list per reply, one label per
sentence. Also returned: the share of replies entailed at all (C-score's entailment rate) and the share entailed
*and* restating, so grounded_without_restating + entailed_restating = entailment_rate.
"""

_CITATION = ""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `str`): system replies.
    references (`list` of `list` of `str`): the persona sentences of each reply.
    labels (`list` of `list` of `int`): per reply, one label in {1, 0, -1} per persona sentence.
    threshold (`float`, default 0.8): restatement threshold.
Returns:
    grounded_without_restating, entailed_restating, entailment_rate (`float`): shares of replies, 0-1.
Examples:
    >>> from pal_core.analysis.metrics import load_metric
    >>> grounded = load_metric("grounded")
    >>> grounded.compute(
    ...     predictions=["hunting is one of my favorite hobbies", "i like to go hunting", "hello"],
    ...     references=[["i like to go hunting"]] * 3,
    ...     labels=[[1], [1], [0]],
    ... )
    {'grounded_without_restating': 0.3333333333333333, 'entailed_restating': 0.3333333333333333, \
'entailment_rate': 0.6666666666666666}
"""

LABELS = (-1, 0, 1)


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Grounded(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        return metric_info(
            _DESCRIPTION, _CITATION, _KWARGS_DESCRIPTION, predictions=TEXT, references=datasets.List(TEXT)
        )

    def _compute(
        self,
        predictions: list[str],
        references: list[list[str]],
        labels: list[list[int]] | None = None,
        threshold: float = grounding.RESTATEMENT_THRESHOLD,
    ) -> dict[str, float]:
        if not predictions:
            raise PalError("grounded: expected at least one prediction, got 0")
        if labels is None or len(labels) != len(predictions):
            raise PalError(
                f"grounded: expected labels, one list per prediction ({len(predictions)}), "
                f"got {'none' if labels is None else len(labels)}"
            )
        for index, (persona, row) in enumerate(zip(references, labels, strict=True)):
            if len(row) != len(persona) or not row or any(label not in LABELS for label in row):
                raise PalError(
                    f"grounded: labels[{index}]: expected one label in -1/0/1 per persona sentence "
                    f"({len(persona)}), got {row}"
                )
        entailed = [1 in row for row in labels]
        restating = [grounding.restates(r, p, threshold) for r, p in zip(predictions, references, strict=True)]
        n = len(predictions)
        return {
            "grounded_without_restating": sum(e and not r for e, r in zip(entailed, restating, strict=True)) / n,
            "entailed_restating": sum(e and r for e, r in zip(entailed, restating, strict=True)) / n,
            "entailment_rate": sum(entailed) / n,
        }

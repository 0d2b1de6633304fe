"""ROUGE-L (longest common subsequence) precision, recall and F-measure, averaged over prediction/reference pairs."""

import evaluate
from rouge_score import rouge_scorer

from pal_core.analysis.metrics.info import TEXT, metric_info
from pal_core.errors import PalError

_DESCRIPTION = """
Sentence-level ROUGE-L computed by Google's `rouge-score` package and averaged over pairs: for each pair,
LCS = length of the longest common subsequence of the two token sequences, precision = LCS / prediction length,
recall = LCS / reference length, F = 2PR / (P + R). Tokens come from rouge-score's default tokenizer (lowercase,
every run of characters outside [a-z0-9] is a separator), without stemming. Scores are on a 0-100 scale, like BLEU.
`predictions` are system responses and `references` gold responses (rouge-score's `score(target, prediction)` gets
them in that order, so precision and recall are never swapped).
"""

_CITATION = """
@inproceedings{lin-2004-rouge, title = "{ROUGE}: A Package for Automatic Evaluation of Summaries",
  author = "Lin, Chin-Yew", booktitle = "Text Summarization Branches Out", year = "2004"}
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `str`): system responses.
    references (`list` of `str`): one gold response per prediction.
    use_stemmer (`bool`, default `False`): apply the Porter stemmer before matching.
Returns:
    rouge_l (`float`): mean ROUGE-L F-measure, 0-100.
    rouge_l_precision, rouge_l_recall (`float`): mean LCS precision and recall, 0-100.
Examples:
    >>> from pal_core.analysis.metrics import load_metric
    >>> rouge = load_metric("rouge_l")
    >>> results = rouge.compute(predictions=["the cat"], references=["the cat sat on the mat"])
    >>> print({k: round(v, 2) for k, v in results.items()})
    {'rouge_l': 50.0, 'rouge_l_precision': 100.0, 'rouge_l_recall': 33.33}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class RougeL(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        return metric_info(
            _DESCRIPTION,
            _CITATION,
            _KWARGS_DESCRIPTION,
            predictions=TEXT,
            references=TEXT,
            urls=("https://github.com/google-research/google-research/tree/master/rouge",),
        )

    def _compute(self, predictions: list[str], references: list[str], use_stemmer: bool = False) -> dict[str, float]:
        if not predictions:
            raise PalError("rouge_l: expected at least one prediction, got 0")
        scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=use_stemmer)
        totals = {"rouge_l": 0.0, "rouge_l_precision": 0.0, "rouge_l_recall": 0.0}
        for prediction, reference in zip(predictions, references, strict=True):
            score = scorer.score(target=reference, prediction=prediction)["rougeL"]
            totals["rouge_l"] += score.fmeasure
            totals["rouge_l_precision"] += score.precision
            totals["rouge_l_recall"] += score.recall
        return {name: 100.0 * total / len(predictions) for name, total in totals.items()}

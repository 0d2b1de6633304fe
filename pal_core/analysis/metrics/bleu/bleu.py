"""Corpus BLEU-1..4 (sacrebleu, lowercased 13a tokens, no smoothing), hypotheses = predictions, gold = references."""

import evaluate
from sacrebleu.metrics import BLEU

from pal_core.analysis.metrics.info import TEXT, metric_info
from pal_core.errors import PalError

_DESCRIPTION = """
Corpus-level BLEU-n for n = 1..4, computed by sacrebleu on lowercased text with its "13a" tokenizer (punctuation split
off). BLEU-n is the cumulative score: the geometric mean of the clipped n-gram precisions of orders 1..n with uniform
weights 1/n, times the corpus brevity penalty exp(1 - r/c) when the total hypothesis length c is below the total
reference length r. No smoothing: an order with zero matches gives 0. Scores are on sacrebleu's 0-100 scale.
`predictions` are the system's responses (hypotheses) and `references` the gold responses; the two are never swapped
(swapping changes precision and brevity penalty).
"""

_CITATION = """
@inproceedings{papineni-etal-2002-bleu, title = "{B}leu: a Method for Automatic Evaluation of Machine Translation",
  author = "Papineni, Kishore and Roukos, Salim and Ward, Todd and Zhu, Wei-Jing", booktitle = "ACL", year = "2002"}
@inproceedings{post-2018-call, title = "A Call for Clarity in Reporting {BLEU} Scores", author = "Post, Matt",
  booktitle = "WMT", year = "2018"}
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `str`): system responses (hypotheses).
    references (`list` of `str`): one gold response per prediction.
Returns:
    bleu_1, bleu_2, bleu_3, bleu_4 (`float`): cumulative corpus BLEU-n on a 0-100 scale.
Examples:
    >>> from pal_core.analysis.metrics import load_metric
    >>> bleu = load_metric("bleu")
    >>> results = bleu.compute(predictions=["The cat sat on the mat."], references=["the cat is on the mat."])
    >>> print({k: round(v, 2) for k, v in results.items()})
    {'bleu_1': 85.71, 'bleu_2': 75.59, 'bleu_3': 61.14, 'bleu_4': 48.89}
"""

MAX_ORDER = 4


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Bleu(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        return metric_info(
            _DESCRIPTION,
            _CITATION,
            _KWARGS_DESCRIPTION,
            predictions=TEXT,
            references=TEXT,
            urls=("https://github.com/mjpost/sacrebleu",),
        )

    def _compute(self, predictions: list[str], references: list[str]) -> dict[str, float]:
        if not predictions:
            raise PalError("bleu: expected at least one prediction, got 0")
        scorer = BLEU(lowercase=True, tokenize="13a", smooth_method="none", max_ngram_order=MAX_ORDER, force=True)
        # sacrebleu takes hypotheses first, then a list of reference streams (we have one reference per line).
        stats = scorer.corpus_score(list(predictions), [list(references)])
        # BLEU-n from the same n-gram counts (tokenising once): orders 1..n, uniform weights, corpus brevity penalty.
        return {
            f"bleu_{n}": float(
                BLEU.compute_bleu(
                    stats.counts[:n],
                    stats.totals[:n],
                    stats.sys_len,
                    stats.ref_len,
                    smooth_method="none",
                    max_ngram_order=n,
                ).score
            )
            for n in range(1, MAX_ORDER + 1)
        }

"""Distinct-1/2: unique n-grams over all n-grams in the whole corpus of predictions (no references needed)."""

import evaluate

from pal_core.analysis.metrics.info import TEXT, metric_info
from pal_core.analysis.metrics.tokens import tokens

_DESCRIPTION = """
Corpus-level Distinct-n (Li et al., 2016) for n = 1, 2: the number of distinct n-grams divided by the total number of
n-grams, counted over all predictions together (n-grams never cross two predictions). Tokens are the same as BLEU's:
lowercased text split by sacrebleu's "13a" tokenizer (punctuation marks are tokens). A corpus without any n-gram of an
order scores 0 for it. Ratios are on a 0-1 scale. References are not used, so none are passed.
"""

_CITATION = """
@inproceedings{li-etal-2016-diversity, title = "A Diversity-Promoting Objective Function for Neural Conversation
  Models", author = "Li, Jiwei and Galley, Michel and Brockett, Chris and Gao, Jianfeng and Dolan, Bill",
  booktitle = "NAACL", year = "2016"}
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `str`): system responses.
Returns:
    distinct_1, distinct_2 (`float`): distinct unigram / bigram ratio over the corpus, 0-1.
Examples:
    >>> from pal_core.analysis.metrics import load_metric
    >>> distinct = load_metric("distinct")
    >>> distinct.compute(predictions=["i like tea", "i like dogs ."])
    {'distinct_1': 0.7142857142857143, 'distinct_2': 0.8}
"""

ORDERS = (1, 2)


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Distinct(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        return metric_info(_DESCRIPTION, _CITATION, _KWARGS_DESCRIPTION, predictions=TEXT)

    def _compute(self, predictions: list[str]) -> dict[str, float]:
        token_lists = [tokens(text) for text in predictions]
        results = {}
        for n in ORDERS:
            ngrams = [tuple(tokens[i : i + n]) for tokens in token_lists for i in range(len(tokens) - n + 1)]
            results[f"distinct_{n}"] = len(set(ngrams)) / len(ngrams) if ngrams else 0.0
        return results

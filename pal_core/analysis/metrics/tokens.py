"""The tokens BLEU, Distinct and average length count: lower-cased text split by sacrebleu's "13a" tokenizer
(punctuation marks are tokens). `reply_length` is the one definition of a reply's length (metric avg_length, the
Leaderboard's length bias)."""

from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

_TOKENIZE = Tokenizer13a()


def tokens(text: str) -> list[str]:
    """Lower-cased 13a tokens of `text`."""
    return _TOKENIZE(text.lower()).split()


def reply_length(text: str) -> int:
    """Number of 13a tokens in `text` ("i like dogs." has 4)."""
    return len(tokens(text))

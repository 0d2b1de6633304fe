"""Silver training pairs for the consistency classifier, made from (persona sentence, response) entailment pairs.

The DNLI sample has 8,307 labelled pairs. A file of model-labelled entailment pairs (e.g. ORIG/D3's
`train_entailed_sentences.json`: `[[persona sentence, response], ...]` from PersonaChat *train*) gives three kinds of
extra pairs:
- entail: the pair as it is;
- neutral: the persona sentence with the response of a pair about another persona sentence (a mismatch);
- contradict: the persona sentence negated by a small rule set ("i am X" -> "i am not X", "i like X" -> "i dislike X",
  "i have X" -> "i do not have X", ...) with the same response, which still entails the original sentence.
Never build them from a file of evaluation dialogues: they would leak into C-score. The caller of
`train.train_consistency` builds them (`build_silver_pairs`) and passes them in.
"""

import itertools
import json
import random
import re
from pathlib import Path

from pal_core.data.loaders import open_text
from pal_core.errors import DataFormatError
from pal_core.judge.config import ConsistencyConfig
from pal_core.judge.nli_pairs import NliPair

_COPULA = re.compile(r"\b(am|is|are|was|were)\b")
_OPPOSITE_VERB = {"love": "hate", "hate": "love", "like": "dislike", "dislike": "like", "enjoy": "hate"}
# Words after "i" that do not start a plain present-tense verb phrase ("i just started", "i also ...").
_NOT_A_VERB = {
    "do",
    "did",
    "don't",
    "have",
    "never",
    "also",
    "just",
    "really",
    "only",
    "had",
    "used",
    "always",
    "still",
}


def load_entailed_pairs(path: str | Path) -> list[tuple[str, str]]:
    """Read a JSON list (.gz ok) of `[persona sentence, response]` pairs; a bad entry names its file and index."""
    path = Path(path)
    try:
        with open_text(path) as f:
            raw = json.load(f)
    except (OSError, EOFError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataFormatError(f"{path}: expected a JSON list of [persona sentence, response] pairs: {exc}") from exc
    if not isinstance(raw, list) or not raw:
        raise DataFormatError(f"{path}: expected a non-empty JSON list of [persona sentence, response] pairs")
    pairs = []
    for i, item in enumerate(raw):
        if not (isinstance(item, list) and len(item) == 2 and all(isinstance(s, str) and s.strip() for s in item)):
            raise DataFormatError(
                f"{path}: entry {i}: expected [persona sentence, response] (two strings), got {item!r}"
            )
        pairs.append((_spaced(item[0]), item[1].strip()))
    return pairs


def _spaced(sentence: str) -> str:
    """PersonaChat's tokenised style, as in the DNLI files: a space before the final full stop, '?' or '!'."""
    return re.sub(r"\s*([.!?])$", r" \1", sentence.strip())


def negate_sentence(sentence: str) -> str | None:
    """A persona sentence turned into its contradiction by rule, or None when no rule applies."""
    w = sentence.split()
    if len(w) < 3:
        return None
    if w[0] == "i":
        if w[1] == "m":  # "i m a mom" (PersonaChat's split of "i'm")
            return " ".join(["i", "am", "not", *w[2:]])
        if w[1:3] == ["do", "not"]:
            return " ".join(["i", *w[3:]])
        if w[1] in ("can", "will"):
            return None if w[2] == "t" else " ".join(["i", w[1], "not", *w[2:]])
        if w[1] in _OPPOSITE_VERB:
            return " ".join(["i", _OPPOSITE_VERB[w[1]], *w[2:]])
        if w[1] == "have" and w[2] not in ("been", "never", "not"):
            return " ".join(["i", "do", "not", "have", *w[2:]])
    copula = _COPULA.search(sentence)
    if copula and not sentence[copula.end() :].startswith(" not"):
        return f"{sentence[: copula.end()]} not{sentence[copula.end() :]}"
    plain_verb = re.fullmatch(r"[a-z]+", w[1]) and not w[1].endswith(("ed", "s")) and w[1] not in _NOT_A_VERB
    if w[0] == "i" and plain_verb:
        return " ".join(["i", "do", "not", *w[1:]])
    return None


def silver_pairs(
    entailed: list[tuple[str, str]], limit: int, *, contradictions: bool = False, seed: int = 0
) -> list[NliPair]:
    """Up to `limit` entail, `limit` neutral and (optionally) `limit` contradict pairs from shuffled `entailed`."""
    if limit < 1:
        return []
    rng = random.Random(seed)
    shuffled = list(entailed)
    rng.shuffle(shuffled)
    chosen = shuffled[:limit]
    # Mismatched responses are drawn from the pairs not chosen as entailments (all pairs, for a small file).
    pool = shuffled[limit:] or shuffled
    out = [NliPair(persona, response, 1) for persona, response in chosen]
    for persona, _ in chosen:
        for _attempt in range(20):  # a pair about the same sentence would not be a mismatch: draw again
            other_persona, other_response = pool[rng.randrange(len(pool))]
            if other_persona != persona:
                out.append(NliPair(persona, other_response, 0))
                break
    if contradictions:  # the first `limit` pairs whose sentence a rule can negate
        negated = ((negate_sentence(persona), response) for persona, response in shuffled)
        usable = ((persona, response) for persona, response in negated if persona)
        out += [NliPair(persona, response, -1) for persona, response in itertools.islice(usable, limit)]
    return out


def build_silver_pairs(cfg: ConsistencyConfig) -> list[NliPair]:
    """The silver pairs a consistency training config asks for (cfg.silver, silver_limit, silver_contradictions,
    seed); none when cfg.silver is empty."""
    if not cfg.silver:
        return []
    entailed = load_entailed_pairs(cfg.silver)
    return silver_pairs(entailed, cfg.silver_limit, contradictions=cfg.silver_contradictions, seed=cfg.seed)

"""Per-reply measures that tell grounding in the persona from copying it, shared by the metric modules
(metrics/restatement, metrics/grounded, metrics/self_repetition) and the pages that show them.

Words are lower-cased runs of ASCII letters, digits and apostrophes ("I'm" -> "i'm"; punctuation is dropped). A sentence's
*content words* are its distinct words minus STOPWORDS, a short list of function words (articles, pronouns, forms of
"be"/"do"/"have", modals, common prepositions and conjunctions, "not"/"no"/"yes", wh-words). Verbs of liking ("like",
"love", "hate") stay content words: they carry what the persona says.

- coverage(reply, sentence): share of the sentence's content words found in the reply (0 for a sentence without any).
- restatement(reply, persona): the persona sentence the reply covers most and that coverage; a reply *restates* when
  it holds at least RESTATEMENT_THRESHOLD (80%) of some sentence's content words.
- repeated_ngram(reply, n=3): the first word n-gram the reply says twice (overlaps count), or None.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

RESTATEMENT_THRESHOLD = 0.8
REPETITION_N = 3

_WORD = re.compile(r"[a-z0-9']+")
STOPWORDS = frozenset(
    """
    a an the and or but so if then than as of to in on at for with from by about into up out
    i me my mine myself you your yours we us our they them their he him his she her it its this that these those
    there here am is are was were be been being do does did have has had will would can could should
    i'm im i've i'd i'll it's that's don't dont not no yes what how who when where why which just very really too also
    """.split()
)


def words(text: str) -> list[str]:
    """The lower-cased word tokens of `text`, in order (apostrophes kept inside words, punctuation dropped)."""
    return [w for w in (m.group(0).strip("'") for m in _WORD.finditer(text.lower())) if w]


def content_words(text: str) -> set[str]:
    """The distinct words of `text` that are not STOPWORDS."""
    return {w for w in words(text) if w not in STOPWORDS}


def coverage(reply: str, sentence: str) -> float:
    """Share of `sentence`'s content words that `reply` contains (0.0 when the sentence has none)."""
    wanted = content_words(sentence)
    return len(wanted & content_words(reply)) / len(wanted) if wanted else 0.0


def restatement(reply: str, persona: Sequence[str]) -> tuple[int, float]:
    """(index, coverage) of the persona sentence `reply` covers most (the first on ties); (-1, 0.0) for an empty
    persona."""
    best, best_cov = -1, 0.0
    for index, sentence in enumerate(persona):
        cov = coverage(reply, sentence)
        if best < 0 or cov > best_cov:
            best, best_cov = index, cov
    return best, best_cov


def restates(reply: str, persona: Sequence[str], threshold: float = RESTATEMENT_THRESHOLD) -> bool:
    """Whether `reply` holds at least `threshold` of the content words of some persona sentence."""
    return restatement(reply, persona)[1] >= threshold


def repeated_ngram(reply: str, n: int = REPETITION_N) -> tuple[str, ...] | None:
    """The first word n-gram of `reply` that occurs a second time in it (overlapping occurrences count), or None."""
    tokens, seen = words(reply), set()
    for i in range(len(tokens) - n + 1):
        gram = tuple(tokens[i : i + n])
        if gram in seen:
            return gram
        seen.add(gram)
    return None


def grounded_without_restating(
    reply: str, persona: Sequence[str], labels: Sequence[int], threshold: float = RESTATEMENT_THRESHOLD
) -> bool:
    """Entailed by some persona sentence (an NLI label of 1 among `labels`, one per sentence: 1 entail, 0 neutral,
    -1 contradict) and not a restatement."""
    return 1 in labels and not restates(reply, persona, threshold)


def restated_segments(
    reply: str, persona: Sequence[str], threshold: float = RESTATEMENT_THRESHOLD
) -> tuple[list[tuple[str, bool]], int, float]:
    """`reply` cut into (text, restated) pieces that join back to it: a word is marked when it is a content word of the
    persona sentence the reply covers most. Also that sentence's index and coverage; nothing is marked when the
    coverage is under `threshold` (the reply does not restate)."""
    index, cov = restatement(reply, persona)
    marked = content_words(persona[index]) if index >= 0 and cov >= threshold else set()
    pieces: list[tuple[str, bool]] = []
    last = 0
    for m in re.finditer(r"[A-Za-z0-9']+", reply):
        word = m.group(0).lower().strip("'")
        if word in marked:
            if m.start() > last:
                pieces.append((reply[last : m.start()], False))
            pieces.append((m.group(0), True))
            last = m.end()
    if last < len(reply):
        pieces.append((reply[last:], False))
    return pieces, index, cov

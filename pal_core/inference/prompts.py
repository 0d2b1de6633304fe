"""Prompt builders for the PAL tasks (select, generate, persona-free, full persona) and the selection parser.

Every prompt is a list of chat messages; `render_prompt` turns it into text for a given tokenizer. This is the one
place where prompt wording lives, so training, sampling and inference always see the same prompts.
"""

import difflib
import re
from collections.abc import Sequence

from pal_core.errors import DataFormatError

NONE_TEXT = "No persona sentence."

_SYSTEM_PERSONA = "You are chatting with a partner. Your persona:\n{persona}"
_SYSTEM_NO_PERSONA = "You are chatting with a partner."
# The task instructions are kept short: they are in every training row and every prompt Select-then-Generate runs
# (bench/prompt_tokens.py: fixed text was 59% of a select prompt's tokens with the longer wording; this one saves 22
# tokens per select prompt and 11 per generate prompt). The persona and history part is common to the select and
# generate prompts, so Select-then-Generate computes it once.
_SELECT_INSTRUCTION = (
    'Which persona sentence should your next reply use? Answer "<number>. <sentence>" or "' + NONE_TEXT + '"'
)
_USE_SENTENCE = "Reply in one short utterance using: {sentence}"
_NO_SENTENCE = "Reply in one short utterance using no persona sentence."
_REPLY_INSTRUCTION = "Reply to your partner with one short utterance."
_EMPTY_HISTORY = "(The conversation has not started yet; you speak first.)"

# A leading selection number: "2", "2.", "(2)", "#2", "Sentence 2", "persona sentence #2:", "[2]", "number 2".
_NUMBER_PREFIX = re.compile(
    r"^\s*(?:(?:persona\s+)?sentence|number|option)?\s*[#(\[]?\s*([0-9]{1,6})(?![0-9])\s*[.):\]]?", re.IGNORECASE
)
_NONE_ANSWER = re.compile(r"^(?:none\b|nothing\b|no persona\b|no sentence\b|no$|n a$)")  # on normalized text
# Fuzzy matching: difflib ratio or word-set Jaccard overlap must reach these to count as a match.
_FUZZY_RATIO = 0.6
_FUZZY_JACCARD = 0.5
_MAX_PARSE_CHARS = 2000  # generations can be long; matching only needs the start


def _format_persona(persona: Sequence[str]) -> str:
    return "\n".join(f"{i}. {sentence}" for i, sentence in enumerate(persona, start=1))


def _format_history(history: Sequence[str]) -> str:
    """Speaker-labelled history, oldest first; the last utterance is always the partner's."""
    if not history:
        return _EMPTY_HISTORY
    n = len(history)
    lines = [f"{'Partner' if (n - 1 - i) % 2 == 0 else 'You'}: {utterance}" for i, utterance in enumerate(history)]
    return "\n".join(lines)


def _messages(system: str, *parts: str) -> list[dict]:
    return [{"role": "system", "content": system}, {"role": "user", "content": "\n\n".join(parts)}]


def select_messages(persona: Sequence[str], history: Sequence[str]) -> list[dict]:
    """The select task: numbered persona, history, and the question which sentence the next reply should use."""
    return _messages(
        _SYSTEM_PERSONA.format(persona=_format_persona(persona)),
        "Dialogue history:\n" + _format_history(history),
        _SELECT_INSTRUCTION,
    )


def generate_messages(persona: Sequence[str], history: Sequence[str], sentence: str | None) -> list[dict]:
    """The generate task: the select context plus the persona sentence to use (None: no sentence needed)."""
    highlight = _NO_SENTENCE if sentence is None else _USE_SENTENCE.format(sentence=sentence)
    return _messages(
        _SYSTEM_PERSONA.format(persona=_format_persona(persona)),
        "Dialogue history:\n" + _format_history(history),
        highlight,
    )


def persona_free_messages(history: Sequence[str]) -> list[dict]:
    """History only: the prompt rejected sampling and the no-persona baseline use."""
    return _messages(_SYSTEM_NO_PERSONA, "Dialogue history:\n" + _format_history(history), _REPLY_INSTRUCTION)


def full_persona_messages(persona: Sequence[str], history: Sequence[str]) -> list[dict]:
    """The whole persona and the history, no selection: the persona-in-prompt baseline."""
    return _messages(
        _SYSTEM_PERSONA.format(persona=_format_persona(persona)),
        "Dialogue history:\n" + _format_history(history),
        _REPLY_INSTRUCTION,
    )


def select_target(persona: Sequence[str], label: tuple[int, ...] | None) -> str:
    """The select-task target: "k. <sentence>" for the first labelled sentence (1-based k), else NONE_TEXT."""
    used = [i for i in (label or ()) if i != -1]
    if not used:
        return NONE_TEXT
    k = used[0]
    if not 0 <= k < len(persona):
        raise DataFormatError(
            f"select_target: expected persona_label indices in [0, {len(persona)}) or (-1,), got {tuple(label)}"
        )
    return f"{k + 1}. {persona[k]}"


def select_candidates(persona: Sequence[str]) -> list[str]:
    """Every possible select target, in persona order, with NONE_TEXT last."""
    return [f"{k}. {sentence}" for k, sentence in enumerate(persona, start=1)] + [NONE_TEXT]


def render_prompt(tokenizer, messages: list[dict]) -> str:
    """Prompt text: the tokenizer's chat template with the generation prompt, else plain "role: content" lines."""
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    lines = [f"{m['role']}: {m['content']}" for m in messages]
    return "\n".join(lines + ["assistant:"])


def _normalize(text: str) -> str:
    """Casefolded words only: punctuation, underscores and runs of whitespace become one space."""
    return re.sub(r"[\W_]+", " ", text.casefold()).strip()


def _similarity(a: str, b: str) -> tuple[float, float]:
    """The difflib ratio and the word-set Jaccard overlap of two normalized strings."""
    if not a or not b:
        return float(a == b), float(a == b)
    ratio = difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()
    words_a, words_b = set(a.split()), set(b.split())
    return ratio, len(words_a & words_b) / len(words_a | words_b)


def _is_fuzzy_match(a: str, b: str) -> bool:
    ratio, jaccard = _similarity(a, b)
    return ratio >= _FUZZY_RATIO or jaccard >= _FUZZY_JACCARD


def parse_selection(text: str, persona: Sequence[str]) -> int:
    """The 0-based persona index a select-task answer names, or -1 for none or no recognisable answer.

    Tried in order: a leading in-range number whose text (if any) agrees with that sentence; the exact sentence text
    (ignoring case, punctuation and spacing), with or without a number; an explicit "none"; a leading in-range number
    alone; the most similar sentence above the fuzzy threshold. Never raises.
    """
    if not isinstance(text, str):
        return -1
    lines = [line for line in text[:_MAX_PARSE_CHARS].splitlines() if line.strip()]
    if not lines:
        return -1
    line = lines[0]
    sentences = [_normalize(s) for s in persona]
    number, rest = None, line
    match = _NUMBER_PREFIX.match(line)
    if match:
        k = int(match.group(1)) - 1
        rest = line[match.end() :]
        if 0 <= k < len(persona):
            number = k
    whole, rest_norm = _normalize(line), _normalize(rest)
    if number is not None and (not rest_norm or _is_fuzzy_match(rest_norm, sentences[number])):
        return number
    for candidate in (whole, rest_norm):
        if candidate and candidate in sentences:
            return sentences.index(candidate)
    if _NONE_ANSWER.match(whole) or _NONE_ANSWER.match(rest_norm):
        return -1
    if number is not None:
        return number
    if not rest_norm:
        return -1
    scores = [max(_similarity(rest_norm, s)) for s in sentences]
    best = max(range(len(scores)), key=scores.__getitem__, default=-1)
    if best >= 0 and _is_fuzzy_match(rest_norm, sentences[best]):
        return best
    return -1

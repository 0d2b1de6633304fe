"""Loading and writing dialogue examples, the one way: `load_examples` / `iter_examples` / `load_dialogues` (format
guessed from the name or first line, or given), `write_examples` (PAL JSON or JSONL, .gz too), `compute_stats`, and
the shipped demo data. The types are in `examples.py` (also importable from here), the format readers in `readers.py`.
"""

import json
import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from functools import partial
from pathlib import Path

import formats
from formats import brief
from pal_core.data.examples import Dialogue, Example
from pal_core.data.readers import RCDG_NAME, READERS, iter_lines
from pal_core.data.readers import iter_json_lines as iter_json_lines  # public here: the one JSON Lines reader
from pal_core.errors import DataFormatError, UnknownNameError

# The formats package's gzip-sniffing text reader and atomic writer (temp file + fsync + rename), raising
# DataFormatError: public here for the rest of pal_core.
open_text = partial(formats.open_text, error=DataFormatError)
open_write = partial(formats.open_write, error=DataFormatError)

logger = logging.getLogger(__name__)

FORMATS = tuple(READERS)  # parlai, pal, jsonl, rcdg
WRITE_FORMATS = ("pal", "jsonl")
DEMO_DIR = Path(__file__).resolve().parents[1] / "demo"


def demo_examples_path() -> Path:
    """The shipped demo JSONL (original hand-written dialogues, split 'demo')."""
    return DEMO_DIR / "examples.jsonl"


def demo_runs_dir() -> Path:
    """The shipped demo run directories, one per system (persona_free, full_persona, pal)."""
    return DEMO_DIR / "runs"


def guess_format(path: str | Path) -> str:
    """The format of a file from its name (per-/src-/tgt-*.txt, .jsonl, .json) or else its first non-blank line."""
    path = Path(path)
    name = path.name.lower().removesuffix(".gz")
    if RCDG_NAME.match(name):
        return "rcdg"
    if name.endswith(".jsonl"):
        return "jsonl"
    if name.endswith(".json"):
        return "pal"
    lineno, first = next(((n, line.strip()) for n, line in iter_lines(path) if line.strip()), (1, ""))
    if first.startswith("{"):
        return "jsonl"
    if first.startswith("["):
        return "pal"
    if first.split(" ", 1)[0].isdigit():
        return "parlai"
    raise DataFormatError(
        f"{path}:{lineno}: expected a file in one of the formats {', '.join(FORMATS)} (told by its name or first "
        f"line), got {brief(first)}; pass the format explicitly"
    )


def iter_examples(path: str | Path, *, history_window: int | None = 3, fmt: str | None = None) -> Iterator[Example]:
    """Stream the examples of a file; history keeps the last `history_window` utterances (None = all)."""
    path = Path(path)
    if history_window is not None and history_window < 0:
        raise DataFormatError(f"history_window: expected an int >= 0 or None, got {history_window}")
    fmt = guess_format(path) if fmt is None else fmt
    if fmt not in READERS:
        raise UnknownNameError(f"unknown data format {fmt!r}; available: {', '.join(FORMATS)}")
    return _at_least_one(READERS[fmt](path, history_window), path)


def _at_least_one(examples: Iterator[Example], path: Path) -> Iterator[Example]:
    """Pass the examples through; a file that holds none is an error, not an empty dataset."""
    n = 0
    for n, example in enumerate(examples, start=1):  # noqa: B007 (n counts what was read)
        yield example
    if n == 0:
        raise DataFormatError(f"{path}:1: expected at least one example, got none (empty file or empty list)")


def load_examples(path: str | Path, *, history_window: int | None = 3, fmt: str | None = None) -> list[Example]:
    """Read a whole file (ParlAI text, PAL JSON, JSONL or RCDG; gzipped or not); fmt=None guesses the format."""
    examples = list(iter_examples(path, history_window=history_window, fmt=fmt))
    logger.info("read %d examples from %s", len(examples), path)
    return examples


def group_dialogues(examples: Iterable[Example]) -> list[Dialogue]:
    """Group examples by dialogue_id (first-seen order; an empty id makes a dialogue of its own)."""
    groups: dict[str, list[Example]] = {}
    for ex in examples:
        groups.setdefault(ex.dialogue_id or f"\0{ex.id}", []).append(ex)
    return [
        Dialogue(
            id=turns[0].dialogue_id or turns[0].id,
            persona=turns[0].persona,
            partner_persona=turns[0].partner_persona,
            turns=tuple(sorted(turns, key=lambda e: e.turn)),
        )
        for turns in groups.values()
    ]


def load_dialogues(path: str | Path, *, history_window: int | None = 3, fmt: str | None = None) -> list[Dialogue]:
    """`load_examples` grouped into dialogues."""
    return group_dialogues(iter_examples(path, history_window=history_window, fmt=fmt))


def example_to_dict(example: Example) -> dict:
    """The JSONL record of an example: its fields by name, tuples as lists."""
    return {f.name: list(v) if isinstance(v := getattr(example, f.name), tuple) else v for f in fields(Example)}


def write_examples(examples: Iterable[Example], path: str | Path, *, fmt: str) -> None:
    """Write examples as JSONL (every field) or PAL JSON ([persona, history, response, persona_label]; null if
    unlabelled); a `.gz` name is gzipped."""
    if fmt not in WRITE_FORMATS:
        raise UnknownNameError(f"unknown output data format {fmt!r}; available: {', '.join(WRITE_FORMATS)}")
    path, examples = Path(path), list(examples)
    with open_write(path) as f:
        if fmt == "jsonl":
            f.writelines(json.dumps(example_to_dict(e), ensure_ascii=False) + "\n" for e in examples)
        else:
            records = [[list(e.persona), list(e.history), e.response, _label_list(e)] for e in examples]
            json.dump(records, f)  # json.dump defaults reproduce the published PAL files byte for byte
    logger.info("wrote %d examples to %s (%s)", len(examples), path, fmt)


def _label_list(example: Example) -> list[int] | None:
    return None if example.persona_label is None else list(example.persona_label)


@dataclass(frozen=True)
class DataStats:
    """Counts over a set of examples (what `pal data stats` prints)."""

    n_examples: int
    n_dialogues: int
    persona_sizes: Counter  # number of persona sentences -> examples
    partner_persona_sizes: Counter
    n_unlabelled: int
    label_sizes: Counter  # 0 = [-1] (no sentence), k = k sentences used
    index_counts: Counter  # persona index -> examples whose label uses it
    mean_history_utterances: float
    mean_history_words: float
    mean_response_words: float


def compute_stats(examples: Iterable[Example]) -> DataStats:
    """One pass over the examples (streams, so it works on an iterator with a progress bar)."""
    n = unlabelled = history_utts = history_words = response_words = 0
    dialogues: set[str] = set()
    persona_sizes, partner_sizes, label_sizes, index_counts = Counter(), Counter(), Counter(), Counter()
    for ex in examples:
        n += 1
        dialogues.add(ex.dialogue_id or f"\0{ex.id}")
        persona_sizes[len(ex.persona)] += 1
        partner_sizes[len(ex.partner_persona)] += 1
        history_utts += len(ex.history)
        history_words += sum(len(u.split()) for u in ex.history)
        response_words += len(ex.response.split())
        if ex.persona_label is None:
            unlabelled += 1
        elif ex.persona_label == (-1,):
            label_sizes[0] += 1
        else:
            label_sizes[len(ex.persona_label)] += 1
            index_counts.update(ex.persona_label)
    per = max(n, 1)
    return DataStats(
        n,
        len(dialogues),
        persona_sizes,
        partner_sizes,
        unlabelled,
        label_sizes,
        index_counts,
        history_utts / per,
        history_words / per,
        response_words / per,
    )

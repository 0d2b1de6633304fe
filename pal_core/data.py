"""Dialogue examples: one frozen `Example`, readers for ParlAI ConvAI2 text, PAL JSON, our JSONL and RCDG parallel
text (each also gzipped), writers for PAL JSON and JSONL, and the shipped demo data.

Readers stream; malformed input raises DataFormatError naming file:line (or record), the field and what was expected.
"""

import json
import logging
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from itertools import zip_longest
from pathlib import Path

from pal_core.errors import DataFormatError, UnknownNameError
from pal_core.textio import brief, iter_json_list, iter_lines
from pal_core.textio import iter_json_lines as iter_json_lines  # public here: the loaders' one reader of JSON Lines
from pal_core.textio import open_text as open_text  # public here: the one gzip-sniffing text reader
from pal_core.textio import open_write as open_write  # public here: the writer counterpart (temp file + rename)

logger = logging.getLogger(__name__)

FORMATS = ("parlai", "pal", "jsonl", "rcdg")
WRITE_FORMATS = ("pal", "jsonl")
DEMO_DIR = Path(__file__).resolve().parent / "demo"
_RCDG_NAME = re.compile(r"^(per|src|tgt)-(?P<split>[^/]+?)\.txt$")
_SPLITS = ("train", "valid", "test", "demo")
_YOUR, _PARTNER = "your persona:", "partner's persona:"


def check_label(value: object, n_persona: int, where: str, of: str = "") -> tuple[int, ...] | None:
    """Validate a persona label: None (unlabelled), (-1,) (no sentence used) or distinct in-range 0-based indices.
    `of` names the record in messages (e.g. " of record 3")."""
    if value is None:
        return None
    ok = isinstance(value, (list, tuple)) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    if not ok or not value:
        raise DataFormatError(f"{where}: expected 'persona_label'{of} as a list of ints, got {brief(value)}")
    label = tuple(value)
    if label == (-1,):
        return label
    if any(not 0 <= v < n_persona for v in label) or len(set(label)) != len(label):
        raise DataFormatError(
            f"{where}: expected 'persona_label'{of} as [-1] or distinct indices in 0..{n_persona - 1} "
            f"(persona has {n_persona} sentences), got {brief(list(label))}"
        )
    return label


@dataclass(frozen=True)
class Example:
    """One turn: the answering speaker's persona, the windowed history (oldest first) and the gold reply."""

    id: str
    persona: tuple[str, ...]
    history: tuple[str, ...]
    response: str
    persona_label: tuple[int, ...] | None = None  # (-1,) = uses no sentence; None = unlabelled
    partner_persona: tuple[str, ...] = ()
    candidates: tuple[str, ...] = ()
    dialogue_id: str = ""
    turn: int = 0
    source: str = ""
    split: str = ""

    def __post_init__(self) -> None:
        # Accept lists from callers but store tuples, so examples stay hashable and immutable.
        for name in ("persona", "history", "partner_persona", "candidates"):
            value = getattr(self, name)
            if isinstance(value, str) or not all(isinstance(s, str) for s in value):
                raise DataFormatError(f"Example.{name} ({self.id}): expected a list of strings, got {value!r:.80}")
            object.__setattr__(self, name, tuple(value))
        if not isinstance(self.response, str):
            raise DataFormatError(f"Example.response ({self.id}): expected a string, got {self.response!r:.80}")
        label = check_label(self.persona_label, len(self.persona), f"Example.persona_label ({self.id})")
        object.__setattr__(self, "persona_label", label)


@dataclass(frozen=True)
class Dialogue:
    """The examples of one dialogue, in turn order, with the personas they share."""

    id: str
    persona: tuple[str, ...]
    partner_persona: tuple[str, ...]
    turns: tuple[Example, ...] = field(default=())


def demo_examples_path() -> Path:
    """The shipped demo JSONL (original hand-written dialogues, split 'demo')."""
    return DEMO_DIR / "examples.jsonl"


def demo_runs_dir() -> Path:
    """The shipped demo run directories, one per system (persona_free, full_persona, pal)."""
    return DEMO_DIR / "runs"


def _base_name(path: Path) -> str:
    name = path.name.removesuffix(".gz")
    return name.rsplit(".", 1)[0] if "." in name else name


def _split_of(name: str) -> str:
    return next((s for s in _SPLITS if s in name.lower()), "")


def _window(history: list[str] | tuple[str, ...], window: int | None) -> tuple[str, ...]:
    if window is None:
        return tuple(history)
    return tuple(history[max(0, len(history) - window) :]) if window else ()


def guess_format(path: str | Path) -> str:
    """The format of a file from its name (per-/src-/tgt-*.txt, .jsonl, .json) or else its first non-blank line."""
    path = Path(path)
    name = path.name.lower().removesuffix(".gz")
    if _RCDG_NAME.match(name):
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
    readers = {"parlai": _read_parlai, "pal": _read_pal, "jsonl": _read_jsonl, "rcdg": _read_rcdg}
    if fmt not in readers:
        raise UnknownNameError(f"unknown data format {fmt!r}; available: {', '.join(FORMATS)}")
    return _at_least_one(readers[fmt](path, history_window), path)


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


def _read_parlai(path: Path, window: int | None) -> Iterator[Example]:
    source, n_dialogues, prev_no = _base_name(path), -1, 0
    persona: list[str] = []
    partner: list[str] = []
    utterances: list[str] = []
    for lineno, line in iter_lines(path):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        number, _, text = line.partition(" ")
        if not number.isdigit():
            raise DataFormatError(f"{where}: expected '<line number> <text>', got {line!r:.60}")
        if int(number) == 1:
            n_dialogues, persona, partner, utterances = n_dialogues + 1, [], [], []
        elif int(number) != prev_no + 1 or n_dialogues < 0:
            raise DataFormatError(f"{where}: expected line number 1 or {prev_no + 1}, got {number}")
        prev_no = int(number)
        for prefix, target in ((_YOUR, persona), (_PARTNER, partner)):
            if text.startswith(prefix):
                if utterances:
                    raise DataFormatError(f"{where}: expected persona lines before the first turn, got {text!r:.60}")
                target.append(text[len(prefix) :].strip())
                break
        else:
            parts = text.split("\t")
            if len(parts) < 2 or not parts[1]:
                raise DataFormatError(f"{where}: expected a persona line or 'text<TAB>labels', got {text!r:.60}")
            turn = len(utterances) // 2
            utterances.append(parts[0])
            yield Example(
                id=f"{source}:{n_dialogues}:{turn}",
                persona=tuple(persona),
                history=_window(utterances, window),
                response=parts[1].split("|")[0],
                partner_persona=tuple(partner),
                candidates=tuple(parts[3].split("|")) if len(parts) > 3 and parts[3] else (),
                dialogue_id=f"{source}:{n_dialogues}",
                turn=turn,
                source=path.name,
                split=_split_of(source),
            )
            utterances.append(parts[1].split("|")[0])


def _str_list(value: object, where: str, name: str, of: str = "") -> list[str]:
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise DataFormatError(f"{where}: expected '{name}'{of} as a list of strings, got {brief(value)}")
    return value


_PAL_RECORD = "[persona, history, response, persona_label]"


def _read_pal(path: Path, window: int | None) -> Iterator[Example]:
    source = _base_name(path)
    prev: tuple[list[str], str] | None = None
    n_dialogues, turn = -1, 0
    for i, where, record in iter_json_list(path, _PAL_RECORD):
        of = f" of record {i}"
        if not isinstance(record, list) or len(record) != 4:
            raise DataFormatError(f"{where}: expected record {i} as {_PAL_RECORD}, got {brief(record)}")
        persona, history = _str_list(record[0], where, "persona", of), _str_list(record[1], where, "history", of)
        if not isinstance(record[2], str):
            raise DataFormatError(f"{where}: expected 'response'{of} as a string, got {brief(record[2])}")
        label = check_label(record[3], len(persona), where, of)
        # PAL JSON has no dialogue ids: a turn continues the previous one when the persona is the same and the
        # history's second-to-last utterance is the previous gold reply.
        if prev is not None and prev[0] == persona and len(history) >= 2 and history[-2] == prev[1]:
            turn += 1
        else:
            n_dialogues, turn = n_dialogues + 1, 0
        prev = (persona, record[2])
        yield Example(
            id=f"{source}:{i}",
            persona=tuple(persona),
            history=_window(history, window),
            response=record[2],
            persona_label=label,
            dialogue_id=f"{source}:{n_dialogues}",
            turn=turn,
            source=path.name,
            split=_split_of(source),
        )


_FIELD_TYPES = {f.name: f.type for f in fields(Example)}
_REQUIRED = ("id", "persona", "history", "response")
MAX_ID_LENGTH = 255  # the annotation store keeps ids in VARCHAR(255); longer ones are refused here already


def _read_jsonl(path: Path, window: int | None) -> Iterator[Example]:
    first_line: dict[str, int] = {}
    for where, lineno, row in iter_json_lines(path):
        unknown = sorted(set(row) - set(_FIELD_TYPES))
        missing = [k for k in _REQUIRED if k not in row]
        if unknown or missing:
            raise DataFormatError(
                f"{where}: expected the fields {', '.join(_FIELD_TYPES)} (required: "
                f"{', '.join(_REQUIRED)}), got unknown {brief(unknown)} and missing {missing}"
            )
        for name in ("persona", "history", "partner_persona", "candidates"):
            if name in row:
                _str_list(row[name], where, name)
        for name in ("id", "response", "dialogue_id", "source", "split"):
            if name in row and not isinstance(row[name], str):
                raise DataFormatError(f"{where}: expected '{name}' as a string, got {brief(row[name])}")
        if not isinstance(row.get("turn", 0), int) or isinstance(row.get("turn"), bool):
            raise DataFormatError(f"{where}: expected 'turn' as an int, got {brief(row['turn'])}")
        if not 0 < len(row["id"]) <= MAX_ID_LENGTH:
            raise DataFormatError(f"{where}: expected 'id' of 1-{MAX_ID_LENGTH} characters, got {len(row['id'])}")
        if row["id"] in first_line:
            raise DataFormatError(
                f"{where}: expected a unique 'id', got {brief(row['id'])} (also on line {first_line[row['id']]})"
            )
        first_line[row["id"]] = lineno
        check_label(row.get("persona_label"), len(row["persona"]), where)
        row["history"] = _window(row["history"], window)
        yield Example(**row)


def _rcdg_paths(path: Path) -> dict[str, Path]:
    name = path.name.removesuffix(".gz")
    if not _RCDG_NAME.match(name):
        raise DataFormatError(f"{path}: expected an RCDG file named per-/src-/tgt-<split>.txt[.gz], got {path.name!r}")
    suffix = path.name[4:]
    return {part: path.with_name(f"{part}-{suffix}") for part in ("per", "src", "tgt")}


def _read_rcdg(path: Path, window: int | None) -> Iterator[Example]:
    paths = _rcdg_paths(path)
    split = _RCDG_NAME.match(path.name.removesuffix(".gz"))["split"]
    source, streams = f"rcdg-{split}", [iter_lines(p) for p in paths.values()]
    prev_persona: tuple[str, ...] | None = None
    n_dialogues, turn = -1, 0
    for i, rows in enumerate(zip_longest(*streams)):
        for (part, p), row in zip(paths.items(), rows, strict=True):
            if row is None:
                raise DataFormatError(
                    f"{p}:{i + 1}: expected a line ({part}) matching the other RCDG files, got end of file"
                )
        per, src, tgt = (row[1] for row in rows)
        persona = tuple(s.strip() for s in per.split("</s>") if s.strip())
        for part, empty in (("per", not persona), ("tgt", not tgt.strip())):
            if empty:
                raise DataFormatError(f"{paths[part]}:{i + 1}: expected a non-empty {part} line, got an empty one")
        # RCDG has no dialogue ids: consecutive lines with the same persona are taken as one dialogue.
        n_dialogues, turn = (n_dialogues, turn + 1) if persona == prev_persona else (n_dialogues + 1, 0)
        prev_persona = persona
        yield Example(
            id=f"{source}:{i}",
            persona=persona,
            history=_window([src], window),
            response=tgt,
            dialogue_id=f"{source}:{n_dialogues}",
            turn=turn,
            source=paths["per"].name,
            split=split,
        )


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

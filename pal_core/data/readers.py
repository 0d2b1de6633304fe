"""The file formats the loaders read, one streaming reader each: ParlAI ConvAI2 text, PAL JSON, our JSONL and RCDG
parallel text (per-/src-/tgt-<split>.txt), gzipped or not. Malformed input raises DataFormatError naming file:line
(or record), the field and what was expected. `data.iter_examples` picks the reader (`READERS`).
"""

import re
from collections.abc import Iterator
from dataclasses import fields
from functools import partial
from itertools import zip_longest
from pathlib import Path

import formats
from formats import brief
from pal_core.data.examples import Example, check_label
from pal_core.errors import DataFormatError

# The formats package's readers, raising DataFormatError.
iter_lines = partial(formats.iter_lines, error=DataFormatError)
iter_json_lines = partial(formats.iter_json_lines, error=DataFormatError)
iter_json_list = partial(formats.iter_json_list, error=DataFormatError)

RCDG_NAME = re.compile(r"^(per|src|tgt)-(?P<split>[^/]+?)\.txt$")
_SPLITS = ("train", "valid", "test", "demo")
_YOUR, _PARTNER = "your persona:", "partner's persona:"


def _base_name(path: Path) -> str:
    name = path.name.removesuffix(".gz")
    return name.rsplit(".", 1)[0] if "." in name else name


def _split_of(name: str) -> str:
    return next((s for s in _SPLITS if s in name.lower()), "")


def _window(history: list[str] | tuple[str, ...], window: int | None) -> tuple[str, ...]:
    if window is None:
        return tuple(history)
    return tuple(history[max(0, len(history) - window) :]) if window else ()


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
    if not RCDG_NAME.match(name):
        raise DataFormatError(f"{path}: expected an RCDG file named per-/src-/tgt-<split>.txt[.gz], got {path.name!r}")
    suffix = path.name[4:]
    return {part: path.with_name(f"{part}-{suffix}") for part in ("per", "src", "tgt")}


def _read_rcdg(path: Path, window: int | None) -> Iterator[Example]:
    paths = _rcdg_paths(path)
    split = RCDG_NAME.match(path.name.removesuffix(".gz"))["split"]
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


READERS = {"parlai": _read_parlai, "pal": _read_pal, "jsonl": _read_jsonl, "rcdg": _read_rcdg}

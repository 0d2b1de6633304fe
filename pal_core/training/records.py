"""Training data for PAL: the stage-1 SFT mixture, and preference pairs (build, validate, read, write).

The preference format is the one docs/preference_format.md describes; `pal sample-rejected` and the dashboard export
both go through `check_preference`, so the DPO trainer only ever sees records that passed it.
"""

import json
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

import datasets

from pal_core.data.loaders import Example, iter_json_lines, open_write
from pal_core.errors import DataFormatError, UnknownNameError
from pal_core.inference import prompts
from pal_core.training.config import SFT_TASKS

logger = logging.getLogger(__name__)

PREFERENCE_SOURCES = ("rejected-sampling", "human")
ROLES = ("system", "user", "assistant")


def gold_sentence(example: Example) -> str | None:
    """The persona sentence the gold response uses (the first labelled one), or None when unlabelled or [-1]."""
    label = example.persona_label
    if not label or label[0] < 0:
        return None
    return example.persona[label[0]]


def _assistant(text: str) -> list[dict]:
    return [{"role": "assistant", "content": text}]


def build_sft_rows(examples: Sequence[Example], tasks: Sequence[str] = ("select", "generate")) -> list[dict]:
    """Prompt-completion rows (conversational) for each example and task.

    Examples without a persona label (None) are skipped for `select` and `generate`: their target sentence is
    unknown, and teaching them as "no persona sentence is needed" would be wrong. `full_persona` needs no label.
    """
    unknown = [t for t in tasks if t not in SFT_TASKS]
    if unknown:
        raise UnknownNameError(f"unknown SFT task {unknown[0]!r}; available: {', '.join(sorted(SFT_TASKS))}")
    rows, skipped = [], 0
    for ex in examples:
        for task in tasks:
            if task in ("select", "generate") and ex.persona_label is None:
                skipped += 1  # unknown label: neither "which sentence" nor "reply with it" has a target we know
                continue
            if task == "select":
                prompt = prompts.select_messages(ex.persona, ex.history)
                target = prompts.select_target(ex.persona, ex.persona_label)
            elif task == "generate":
                prompt = prompts.generate_messages(ex.persona, ex.history, gold_sentence(ex))
                target = ex.response
            else:
                prompt = prompts.full_persona_messages(ex.persona, ex.history)
                target = ex.response
            rows.append({"prompt": prompt, "completion": _assistant(target)})
    if skipped:
        logger.info(
            "select/generate tasks: skipped %d rows of unlabelled examples (label them with `pal label`)", skipped
        )
    logger.info("SFT data: %d rows from %d examples, tasks %s", len(rows), len(examples), list(tasks))
    return rows


def build_sft_dataset(examples: Sequence[Example], tasks: Sequence[str] = ("select", "generate")) -> datasets.Dataset:
    """TRL's conversational prompt-completion data set: `prompt` (messages) and `completion` (one assistant turn)."""
    rows = build_sft_rows(examples, tasks)
    if not rows:
        raise DataFormatError(f"SFT data: expected at least one training row, got 0 from {len(examples)} examples")
    return datasets.Dataset.from_list(rows)


# ---------------------------------------------------------------- preference pairs


def _check_messages(value: object, where: str, key: str) -> None:
    if not isinstance(value, list) or not value:
        raise DataFormatError(f"{where}: expected {key!r} as a non-empty list of messages, got {value!r:.80}")
    for i, m in enumerate(value):
        if not isinstance(m, dict) or m.get("role") not in ROLES or not isinstance(m.get("content"), str):
            raise DataFormatError(
                f"{where}: expected {key}[{i}] as {{'role': one of {list(ROLES)}, 'content': str}}, got {m!r:.80}"
            )


def _check_reply(value: object, where: str, key: str) -> str:
    ok = (
        isinstance(value, list)
        and len(value) == 1
        and isinstance(value[0], dict)
        and value[0].get("role") == "assistant"
        and isinstance(value[0].get("content"), str)
        and value[0]["content"].strip() != ""
    )
    if not ok:
        raise DataFormatError(
            f"{where}: expected {key!r} as [{{'role': 'assistant', 'content': <non-empty str>}}], got {value!r:.80}"
        )
    return value[0]["content"]


def _check_str_list(record: dict, where: str, key: str) -> None:
    value = record[key]
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise DataFormatError(f"{where}: expected {key!r} as a list of strings, got {value!r:.80}")


def check_preference(record: object, where: str) -> dict:
    """Validate one preference record (docs/preference_format.md); returns it unchanged or raises DataFormatError."""
    if not isinstance(record, dict):
        raise DataFormatError(f"{where}: expected a JSON object, got {type(record).__name__}")
    missing = [k for k in ("id", "prompt", "chosen", "rejected", "provenance") if k not in record]
    if missing:
        raise DataFormatError(
            f"{where}: expected keys id, prompt, chosen, rejected, provenance, got no {missing[0]!r}"
        )
    if not isinstance(record["id"], str) or not record["id"]:
        raise DataFormatError(f"{where}: expected 'id' as a non-empty string, got {record['id']!r:.80}")
    _check_messages(record["prompt"], where, "prompt")
    if record["prompt"][-1]["role"] != "user":
        raise DataFormatError(
            f"{where}: expected the last prompt message from 'user', got {record['prompt'][-1]['role']!r}"
        )
    chosen = _check_reply(record["chosen"], where, "chosen")
    rejected = _check_reply(record["rejected"], where, "rejected")
    if chosen.strip() == rejected.strip():
        raise DataFormatError(f"{where}: expected 'chosen' and 'rejected' to differ, got the same text {chosen!r:.60}")
    for key in ("persona", "history"):
        if key in record:
            _check_str_list(record, where, key)
    sentence = record.get("persona_sentence")
    if sentence is not None and not isinstance(sentence, str):
        raise DataFormatError(f"{where}: expected 'persona_sentence' as a string or null, got {sentence!r:.80}")
    prov = record["provenance"]
    if not isinstance(prov, dict) or prov.get("source") not in PREFERENCE_SOURCES:
        raise DataFormatError(
            f"{where}: expected 'provenance' as an object with 'source' in {list(PREFERENCE_SOURCES)}, got {prov!r:.80}"
        )
    return record


def load_preferences(path: str | Path) -> list[dict]:
    """Read and validate a preference JSONL file (.gz too); errors name path:line, the field and what was expected."""
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(f"{path.resolve()}: expected a preference JSONL file, got no such file")
    records: list[dict] = []
    first_line: dict[str, int] = {}
    for where, lineno, record in iter_json_lines(path):
        check_preference(record, where)
        if record["id"] in first_line:
            raise DataFormatError(
                f"{where}: expected a unique 'id', got {record['id']!r} (also on line {first_line[record['id']]})"
            )
        first_line[record["id"]] = lineno
        records.append(record)
    if not records:
        raise DataFormatError(f"{path}: expected at least one preference record, got none")
    return records


def write_preferences(records: Iterable[dict], path: str | Path) -> int:
    """Write records as JSONL (gzip when the name ends in .gz); returns how many were written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with open_write(path) as f:  # temp file + rename: never a partial file
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            n += 1
    return n


def make_preference_record(
    *,
    id: str,
    persona: Sequence[str],
    history: Sequence[str],
    persona_sentence: str | None,
    chosen: str,
    rejected: str,
    provenance: dict,
) -> dict:
    """One record in the preference format: prompt = the generate prompt with `persona_sentence` highlighted."""
    return {
        "id": id,
        "prompt": prompts.generate_messages(tuple(persona), tuple(history), persona_sentence),
        "chosen": _assistant(chosen),
        "rejected": _assistant(rejected),
        "persona": list(persona),
        "history": list(history),
        "persona_sentence": persona_sentence,
        "provenance": provenance,
    }


def to_preference_records(rows: Sequence[dict]) -> list[dict]:
    """Turn db export dicts {id, persona, history, persona_sentence, chosen, rejected, provenance} (texts) into records."""
    records = []
    for i, row in enumerate(rows):
        where = f"preference row {i}"
        if not isinstance(row, dict):
            raise DataFormatError(f"{where}: expected a dict, got {type(row).__name__}")
        for key in ("id", "persona", "history", "chosen", "rejected", "provenance"):
            if key not in row:
                raise DataFormatError(f"{where}: expected key {key!r}, got keys {sorted(row)}")
        for key in ("chosen", "rejected"):
            if not isinstance(row[key], str):
                raise DataFormatError(f"{where}: expected {key!r} as a string, got {row[key]!r:.80}")
        record = make_preference_record(
            id=str(row["id"]),
            persona=row["persona"],
            history=row["history"],
            persona_sentence=row.get("persona_sentence"),
            chosen=row["chosen"],
            rejected=row["rejected"],
            provenance=row["provenance"],
        )
        records.append(check_preference(record, where))
    return records


def build_rejected_records(
    examples: Sequence[Example], generations: Sequence[str], *, model: str
) -> tuple[list[dict], dict[str, int]]:
    """PAL's stage-2 pairs: chosen = gold reply, rejected = the persona-free generation; skips unlabelled examples
    and empty replies or replies equal to the gold one."""
    if len(examples) != len(generations):
        raise DataFormatError(
            f"rejected sampling: expected one generation per example ({len(examples)}), got {len(generations)}"
        )
    records, skipped = [], {"unlabelled": 0, "empty": 0, "equal_to_gold": 0}
    for ex, text in zip(examples, generations, strict=True):
        if ex.persona_label is None:  # the chosen side's prompt needs the gold sentence (or a known "none")
            skipped["unlabelled"] += 1
            continue
        if not text.strip():
            skipped["empty"] += 1
            continue
        if text.strip() == ex.response.strip():
            skipped["equal_to_gold"] += 1
            continue
        record = make_preference_record(
            id=ex.id,
            persona=ex.persona,
            history=ex.history,
            persona_sentence=gold_sentence(ex),
            chosen=ex.response,
            rejected=text,
            provenance={"source": "rejected-sampling", "model": model, "example_id": ex.id},
        )
        records.append(check_preference(record, f"example {ex.id}"))
    return records, skipped


def build_preference_dataset(records: Sequence[dict]) -> datasets.Dataset:
    """TRL's conversational preference data set (prompt, chosen, rejected); other keys stay in the JSONL only."""
    return datasets.Dataset.from_list(
        [{"prompt": r["prompt"], "chosen": r["chosen"], "rejected": r["rejected"]} for r in records]
    )

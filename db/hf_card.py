"""The Hugging Face export's rows and its dataset card (README.md): who annotated, how many, agreement, guidelines."""

import json
import math
import re
from collections import Counter

from db.annotate import ANSWER_FIELDS


def hf_rows(items: list[dict], judgements: list[dict]) -> list[dict]:
    """One row per current judgement: judgements_frame()'s columns (created_at as ISO 8601 text) plus the item's
    persona, history and the two replies. Unanswered answers stay None (null in Arrow/Parquet)."""
    texts = {it["item_id"]: it for it in items}
    rows = []
    for j in judgements:
        row = dict(j, created_at=j["created_at"].isoformat())
        item = texts[j["item_id"]]
        row.update({k: item[k] for k in ("persona", "history", "reply_a", "reply_b")})
        rows.append(row)
    return rows


def _fence(text: str) -> str:
    """`text` in a fenced block that nothing inside can close (guidelines are user text, shown as text)."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def _number(value) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3f}"


def dataset_card(
    project: dict, items: list[dict], judgements: list[dict], agreement: list[dict], n_preferences: int = 0
) -> str:
    """The card: YAML header (pretty_name, tags, configs `judgements`, `items` and, with n_preferences, `preferences`
    pointing at the Parquet files, so `datasets.load_dataset(folder, "judgements")` reads it), then counts,
    annotators, agreement and guidelines."""
    per_user = Counter(j["user"] for j in judgements)
    judged_items = {j["item_id"] for j in judgements}
    asked = ", ".join(project["questions"]) or "none"
    lines = [
        "---",
        f"pretty_name: {json.dumps(project['name'])}",
        "tags: [pal-studio, pairwise-comparison, human-feedback, persona-consistency]",
        "configs:",
        "- config_name: judgements",
        "  data_files: judgements.parquet",
        "- config_name: items",
        "  data_files: items.parquet",
        *(["- config_name: preferences", "  data_files: preferences.parquet"] if n_preferences else []),
        "---",
        "",
        f"# {project['name']}",
        "",
        "Pairwise human judgements of persona-grounded dialogue replies, exported from PAL Studio.",
        "",
        f"- systems compared: {', '.join(project['systems'])}",
        f"- items: {len(items)} ({len(judged_items)} judged), judges wanted per item: {project['annotators_per_item']}",
        f"- judgements: {len(judgements)} (current ones: edits and undos are resolved)",
        "- preference: A, B, tie or both_bad for the item's reply_a / reply_b; per-reply questions asked: " + asked,
        "- an unanswered question is null: nothing is filled in for the annotator",
        "",
        "## Who annotated",
        "",
        "| annotator | judgements |",
        "| --- | --- |",
        *(f"| {json.dumps(user)[1:-1]} | {n} |" for user, n in sorted(per_user.items())),
        "",
        "## Agreement",
        "",
    ]
    if agreement:
        lines += ["| question | Krippendorff's alpha | items (replies) answered by 2 or more |", "| --- | --- | --- |"]
        lines += [f"| {a['question']} | {_number(a['krippendorff_alpha'])} | {a['n_units']} |" for a in agreement]
        lines += ["", "n/a: no item (reply) answered by two annotators yet."]
    else:
        lines.append("Not computed (no judgements, or exported without the analysis package).")
    columns = ", ".join(name for fields in ANSWER_FIELDS.values() for name in fields)
    lines += [
        "",
        "## Files",
        "",
        "- `judgements/`, `judgements.parquet`: one row per judgement (user, item, systems, preference, winner, "
        f"{columns}, reason, seconds, created_at, persona, history, reply_a, reply_b)",
        "- `items/`, `items.parquet`: one row per item (dialogue, persona, history, both systems and replies, gold)",
        *(
            [f"- `preferences/`, `preferences.parquet`: {n_preferences} preference pairs for DPO (`pal train dpo`)"]
            if n_preferences
            else []
        ),
        "",
        "## Guidelines given to the annotators",
        "",
        _fence(project["guidelines"] or "(none)"),
        "",
    ]
    return "\n".join(lines)

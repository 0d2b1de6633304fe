"""Stage-2 pair files for the study of issue 24 items 3 and 4, made from the pairs `pal sample-rejected` wrote.

    python docs/results/pal_v3/pair_variants.py --pairs pairs.jsonl --variant filter --out pairs_filter.jsonl

Variants (each keeps PAL's rejected side, the model's persona-free reply, for every pair it keeps):
- filter            drop the pairs whose chosen reply restates its persona (analysis.grounding.restates: >= 80% of
                    some sentence's content words), so DPO never pulls towards copying;
- restate_negative  every pair, plus one per pair whose chosen reply uses a sentence without restating it: the same
                    prompt and chosen reply against the highlighted sentence itself as the rejected reply (copying,
                    made explicitly worse than grounding);
- select            every pair, plus one select-task pair per pair: the select prompt, chosen = the gold answer
                    ("k. sentence" or "No persona sentence."), rejected = the opposite kind (none for a gold sentence,
                    sentence 1 for gold none), so DPO keeps training the selector instead of only moving it.
The added pairs carry provenance.kind (restate_negative / select) for auditing; the trainer reads prompt, chosen and
rejected only.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from pal_core.analysis.grounding import restates  # noqa: E402
from pal_core.inference import prompts  # noqa: E402
from pal_core.training.records import load_preferences, write_preferences  # noqa: E402

VARIANTS = ("filter", "restate_negative", "select")


def _added(record: dict, kind: str, prompt: list[dict], chosen: str, rejected: str) -> dict:
    return {
        **record,
        "id": f"{record['id']}:{kind}",
        "prompt": prompt,
        "chosen": [{"role": "assistant", "content": chosen}],
        "rejected": [{"role": "assistant", "content": rejected}],
        "provenance": {**record["provenance"], "kind": kind},
    }


def variant_records(records: list[dict], variant: str) -> list[dict]:
    """The pair list of one variant (see the module docstring)."""
    out = []
    for record in records:
        persona, chosen = record.get("persona") or [], record["chosen"][0]["content"]
        sentence = record.get("persona_sentence")
        if variant == "filter":
            if not restates(chosen, persona):
                out.append(record)
            continue
        out.append(record)
        if variant == "restate_negative" and sentence and not restates(chosen, persona) and sentence != chosen:
            out.append(_added(record, "restate_negative", record["prompt"], chosen, sentence))
        if variant == "select" and persona:
            label = (persona.index(sentence),) if sentence in persona else (-1,)
            target = prompts.select_target(persona, label)
            wrong = prompts.NONE_TEXT if label != (-1,) else prompts.select_candidates(persona)[0]
            select_prompt = prompts.select_messages(persona, record.get("history") or [])
            out.append(_added(record, "select", select_prompt, target, wrong))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=Path, required=True)
    parser.add_argument("--variant", choices=VARIANTS, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    records = load_preferences(args.pairs)
    n = write_preferences(variant_records(records, args.variant), args.out)
    print(f"{args.variant}: {len(records)} pairs in, {n} out -> {args.out}")


if __name__ == "__main__":
    main()

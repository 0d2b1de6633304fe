"""Where a prompt's tokens go: chat-template markup, fixed instructions, persona, history, for each PAL prompt on
the first --n turns of a train file (never the validation or test turns). Prints the mean token count of each part
and its share, and how much of the select prompt Select-then-Generate's shared prefill computes once.

    python bench/prompt_tokens.py --data ../shared/data/rcdg/per-train.txt.gz --n 500
"""

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from transformers import AutoTokenizer  # noqa: E402

from pal_core.data.loaders import demo_examples_path, load_examples  # noqa: E402
from pal_core.inference import (
    models,
    prompts,
    systems,  # noqa: E402
)


def count(tokenizer, text: str) -> int:
    return len(tokenizer(text, add_special_tokens=False)["input_ids"]) if text else 0


def parts(tokenizer, messages: list[dict], persona, history) -> dict[str, int]:
    """Token counts of a rendered prompt split into persona, history, fixed text and template markup."""
    total = count(tokenizer, prompts.render_prompt(tokenizer, messages))
    persona_tokens = sum(count(tokenizer, s) for s in persona) if "persona" in messages[0]["content"].lower() else 0
    history_tokens = sum(count(tokenizer, u) for u in history)
    text_tokens = sum(count(tokenizer, m["content"]) for m in messages)
    return {
        "persona": persona_tokens,
        "history": history_tokens,
        "fixed text (instructions, labels, numbering)": text_tokens - persona_tokens - history_tokens,
        "chat template markup": total - text_tokens,
        "total": total,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=None, help="examples (default: the bundled demo set)")
    parser.add_argument("--n", type=int, default=500)
    args = parser.parse_args()
    tokenizer = AutoTokenizer.from_pretrained(models.resolve_lm_path(None), local_files_only=True)
    examples = load_examples(args.data or demo_examples_path())[: args.n]
    builders = {
        "select": lambda ex: prompts.select_messages(ex.persona, ex.history),
        "generate": lambda ex: prompts.generate_messages(ex.persona, ex.history, ex.persona[0]),
        "full_persona": lambda ex: prompts.full_persona_messages(ex.persona, ex.history),
        "persona_free": lambda ex: prompts.persona_free_messages(ex.history),
    }
    print(f"# {len(examples)} turns of {args.data or demo_examples_path()}; mean tokens per prompt (share)")
    print("prompt\tpart\ttokens\tshare")
    for name, build in builders.items():
        counts = [parts(tokenizer, build(ex), ex.persona, ex.history) for ex in examples]
        total = statistics.mean(c["total"] for c in counts)
        for part in counts[0]:
            mean = statistics.mean(c[part] for c in counts)
            print(f"{name}\t{part}\t{mean:.1f}\t{mean / total:.2f}")
    shared = []
    for ex in examples:
        ids = tokenizer(prompts.render_prompt(tokenizer, builders["select"](ex)), add_special_tokens=False)[
            "input_ids"
        ]
        shared.append(systems._shared_length(tokenizer, ex, ids) / len(ids))
    print(f"select\tshared with the generate prompt (computed once)\t-\t{statistics.mean(shared):.2f}")


if __name__ == "__main__":
    main()

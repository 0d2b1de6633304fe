"""Playground latency: time to the first streamed piece and to the whole reply of one Select-then-Generate chat
turn (one shared prefill, selection first, then the streamed reply), as the Playground page runs it.

    python bench/playground_bench.py                        # the shipped PAL adapter if present, else the base LM
    python bench/playground_bench.py --model smollm2-135m-instruct --turns 10

Prints one line per turn (first piece s, whole reply s, new tokens) and the medians, with the load average.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from roofline import load_average  # noqa: E402

from pal_core.data.loaders import demo_examples_path, load_examples  # noqa: E402
from pal_core.inference import models  # noqa: E402
from pal_core.inference.generate import GenerationConfig  # noqa: E402
from pal_core.inference.selectors import get_selector  # noqa: E402
from pal_core.inference.systems import stream_select_then_generate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default = "pal-smollm2-135m" if models.packaged_lm_available("pal-smollm2-135m") else models.DEFAULT_LM
    parser.add_argument("--model", default=default)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--max-new-tokens", type=int, default=40)
    args = parser.parse_args()

    model, tokenizer = models.load_lm(args.model, device="cpu")
    selector = get_selector("lm", model=model, tokenizer=tokenizer)
    cfg = GenerationConfig(max_new_tokens=args.max_new_tokens, batch_size=1)
    examples = load_examples(demo_examples_path())[: args.turns]
    stream_select_then_generate(examples[0], selector, model, tokenizer, cfg)[1].__next__()  # warm-up
    print(f"# {args.model} on cpu, {len(examples)} demo turns, load average {load_average()}")
    print("turn\tfirst piece s\twhole reply s\treply")
    firsts, wholes = [], []
    for ex in examples:
        began = time.perf_counter()
        _, pieces = stream_select_then_generate(ex, selector, model, tokenizer, cfg)
        first, text = None, ""
        for piece in pieces:
            first = first if first is not None else time.perf_counter() - began
            text += piece
        whole = time.perf_counter() - began
        firsts.append(first if first is not None else whole)
        wholes.append(whole)
        print(f"{ex.id}\t{firsts[-1]:.2f}\t{whole:.2f}\t{text.strip()[:60]}", flush=True)
    print(f"median\t{statistics.median(firsts):.2f}\t{statistics.median(wholes):.2f}\t"
          f"(load average {load_average()})")  # fmt: skip


if __name__ == "__main__":
    main()

"""Select-then-Generate cost, roofline style: the two-pass path (select prompt, then generate prompt, each prefilled
in full) against one shared prefill (persona + history once, candidate scoring and generation branching from its KV
cache), on the same examples, greedy, with the LM selector.

    python bench/stg_bench.py --data ../shared/data/pal_format/valid_output.json.gz --n 300 --device cpu
    python bench/stg_bench.py --tiny --n 12 --batch-sizes 4 --device cpu        # smoke run, seconds

Prints the machine's matmul peaks (measured in the same run), then one line per path: examples/s, useful GFLOP/s
(what the answer needs: every prompt token once, the candidates, the generate suffix and the new tokens; padding and
recomputed prefixes are not counted), that rate as a fraction of the fp32 matmul peak, the ratio to the two-pass
path, and how many selections and replies equal the two-pass path's.
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_bench import bench_examples, bench_model, bench_parser, model_label  # noqa: E402
from roofline import ModelShape, forward_flops, load_average, matmul_peaks  # noqa: E402

from pal_core import prompts, systems  # noqa: E402
from pal_core.generate import GenerationConfig  # noqa: E402
from pal_core.select import SelectConfig, get_selector  # noqa: E402


def _n_tokens(tokenizer, text: str) -> int:
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def useful_flops(shape: ModelShape, tokenizer, examples, rows) -> float:
    """FLOPs the answers need: select prompt once, candidates after it, generate suffix after the shared prefix,
    then the new tokens (reply + end-of-turn, each with its logits)."""
    total = 0.0
    for ex, row in zip(examples, rows, strict=True):
        select_ids = tokenizer(
            prompts.render_prompt(tokenizer, prompts.select_messages(ex.persona, ex.history)), add_special_tokens=False
        )["input_ids"]
        shared = systems._shared_length(tokenizer, ex, select_ids)
        total += forward_flops(shape, len(select_ids))
        for cand in prompts.select_candidates(ex.persona):
            n = _n_tokens(tokenizer, cand)
            total += forward_flops(shape, n, offset=len(select_ids), logits=n)
        sentence = ex.persona[row["selected_index"]] if row["selected_index"] >= 0 else None
        gen = _n_tokens(
            tokenizer, prompts.render_prompt(tokenizer, prompts.generate_messages(ex.persona, ex.history, sentence))
        )
        total += forward_flops(shape, gen - shared, offset=shared)
        new = _n_tokens(tokenizer, row["response"]) + 1
        total += forward_flops(shape, new, offset=gen, logits=new)
    return total


def main() -> None:
    parser = bench_parser(__doc__, 64, [32])
    parser.add_argument("--select-batch", type=int, default=8, help="examples per candidate-scoring pass")
    parser.add_argument("--max-new-tokens", type=int, default=32)
    args = parser.parse_args()

    model, tokenizer = bench_model(args)
    examples = bench_examples(args.data, args.n)
    shape = ModelShape.of(model.config)
    peaks = matmul_peaks()
    peak = max(peaks["fp32_square"], peaks["fp32_mlp"])
    print(f"# {model_label(args, model)}, {len(examples)} examples, {args.max_new_tokens} new tokens, greedy; "
          f"load average {load_average()}; matmul peaks GFLOP/s: "
          + ", ".join(f"{k} {v:.1f}" for k, v in peaks.items()))  # fmt: skip
    print("path\tbatch\texamples/s\tuseful GFLOP/s\tof fp32 peak\tx two-pass\tsame selections\tsame replies")
    selector = get_selector(
        "lm", model=model, tokenizer=tokenizer, config=SelectConfig(select_batch_size=args.select_batch)
    )
    for batch in args.batch_sizes:
        cfg = GenerationConfig(max_new_tokens=args.max_new_tokens, batch_size=batch)
        reference, base_rate = None, None
        for name, share in (("two_pass", False), ("shared_prefill", True)):
            began = time.perf_counter()
            rows = systems.select_then_generate(examples, selector, model, tokenizer, cfg, share_prefill=share)
            seconds = time.perf_counter() - began
            reference = reference or rows
            rate = len(rows) / seconds
            base_rate = base_rate or rate
            gflops = useful_flops(shape, tokenizer, examples, rows) / seconds / 1e9
            same_sel = sum(a["selected_index"] == b["selected_index"] for a, b in zip(rows, reference, strict=True))
            same_reply = sum(a["response"] == b["response"] for a, b in zip(rows, reference, strict=True))
            print(f"{name}\t{batch}\t{rate:.3f}\t{gflops:.3g}\t{gflops / peak:.2f}\t{rate / base_rate:.2f}\t"
                  f"{same_sel}/{len(rows)}\t{same_reply}/{len(rows)}", flush=True)  # fmt: skip
    print(f"# load average at the end {load_average()}")


if __name__ == "__main__":
    main()

"""LM-selector throughput: the plain path (each candidate line scored after its own copy of the select prompt) against
the shared-prefix path (each prompt run once, its KV cache copied to one row per candidate), the default of
`pal evaluate --selector lm`. Prints one line per (path, batch size): examples/s, peak GPU memory, the ratio to the
plain path, the share of examples where both pick the same sentence, and the largest score difference.

    python bench/select_bench.py --data ../shared/data/pal_format/valid_output.json.gz --n 100 --batch-sizes 8
    python bench/select_bench.py --tiny --n 64 --batch-sizes 8 32 --device cpu  # random 2-layer Llama, CPU

Examples: the first --n examples of --data (default: the bundled demo set, repeated as needed).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gen_bench import bench_examples, bench_model, bench_parser, model_label, timed  # noqa: E402

from pal_core.inference.selectors import SelectConfig, get_selector  # noqa: E402


def main() -> None:
    args = bench_parser(__doc__, 128, [8]).parse_args()
    model, tokenizer = bench_model(args)
    examples = bench_examples(args.data, args.n)
    n_cands = sum(len(ex.persona) + 1 for ex in examples)
    print(f"# {model_label(args, model)}, {len(examples)} examples, {n_cands} candidate lines")
    get_selector("lm", model=model, tokenizer=tokenizer).select(examples[:2])  # warm-up, not timed
    print("path\tbatch\texamples/s\tpeak GiB\tx plain\tsame choice\tmax |score diff|")
    for batch in args.batch_sizes:
        plain, plain_rate = None, None
        for name, shared in (("plain", False), ("shared_prefix", True)):
            config = SelectConfig(selector="lm", select_batch_size=batch, lm_prefix_cache=shared)
            selector = get_selector("lm", model=model, tokenizer=tokenizer, config=config)
            selections, seconds, peak = timed(lambda s=selector: s.select(examples), model)
            rate = len(examples) / seconds
            plain, plain_rate = (selections, rate) if plain is None else (plain, plain_rate)
            same = sum(a.index == b.index for a, b in zip(selections, plain, strict=True)) / len(examples)
            pairs = zip(selections, plain, strict=True)
            diff = max(abs(x - y) for a, b in pairs for x, y in zip(a.scores, b.scores, strict=True))
            peak_text = f"{peak:.2f}" if peak is not None else "n/a"
            print(f"{name}\t{batch}\t{rate:.2f}\t{peak_text}\t{rate / plain_rate:.2f}\t{same:.3f}\t{diff:.2e}",
                  flush=True)  # fmt: skip


if __name__ == "__main__":
    main()

"""int8 on the CPU: torch's dynamic int8 linear layers (weights int8, activations quantized per batch) against fp32
`generate_texts`, on the same rendered prompts, greedy, at each batch size; plus the machine's fp32 and int8 matmul
peaks measured in the same run. int8 is only worth using where it is faster AND keeps the replies.

    python bench/int8_bench.py --data ../shared/data/pal_format/valid_output.json.gz --n 64 --batch-sizes 1 32
    python bench/int8_bench.py --tiny --n 8 --batch-sizes 4          # smoke run
"""

import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_bench import bench_model, bench_parser, build_prompts, model_label  # noqa: E402
from roofline import load_average, matmul_peaks  # noqa: E402

from pal_core.inference.generate import GenerationConfig, generate_texts  # noqa: E402


def quantized(model):
    """A copy of `model` whose nn.Linear layers (the LM head included) run as dynamic int8."""
    from torch.ao.quantization import quantize_dynamic

    return quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8, inplace=False)


def main() -> None:
    parser = bench_parser(__doc__, 64, [1, 32])
    parser.add_argument("--max-new-tokens", type=int, default=32)
    args = parser.parse_args()
    model, tokenizer = bench_model(args)
    int8 = quantized(model)
    texts = build_prompts(tokenizer, args.data, args.n)
    peaks = matmul_peaks()
    print(f"# {model_label(args, model)}, {len(texts)} prompts, {args.max_new_tokens} new tokens, greedy; load average "
          f"{load_average()}; matmul peaks: " + ", ".join(f"{k} {v:.1f}" for k, v in peaks.items()))  # fmt: skip
    print("path\tbatch\tresponses/s\tx fp32\treplies equal to fp32")
    for batch in args.batch_sizes:
        cfg = GenerationConfig(max_new_tokens=args.max_new_tokens, batch_size=batch)
        reference, base_rate = None, None
        for name, m in (("fp32", model), ("dynamic_int8", int8)):
            began = time.perf_counter()
            replies = generate_texts(m, tokenizer, texts, cfg)
            rate = len(texts) / (time.perf_counter() - began)
            reference, base_rate = reference or replies, base_rate or rate
            equal = sum(a == b for a, b in zip(replies, reference, strict=True))
            print(f"{name}\t{batch}\t{rate:.2f}\t{rate / base_rate:.2f}\t{equal}/{len(texts)}", flush=True)
    print(f"# load average at the end {load_average()}")


if __name__ == "__main__":
    main()

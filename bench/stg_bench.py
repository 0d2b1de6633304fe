"""Select-then-Generate cost, roofline style, on the same examples, greedy, with the LM selector: the two-pass path
(select prompt, then generate prompt, each prefilled in full, transformers' generate), one shared prefill (persona +
history once, candidate scoring and generation branching from its KV cache) with transformers' generate, and the
default path (shared prefill + early exit: a reply leaves the batch when its line or turn ends). With
--baseline-commit, that commit's Select-then-Generate runs first on the same examples (in a subprocess, from
`git archive`), so the ratio to an older default is measured in the same run; with --extra-dtype, the default path
also runs with the model in that dtype (bfloat16: AMX on this machine's CPU), its replies compared to the fp32 ones.

    python bench/stg_bench.py --data ../shared/data/pal_format/valid_output.json.gz --n 300 --device cpu
    python bench/stg_bench.py --data ../shared/data/pal_format/valid_output.json.gz --n 64 --baseline-commit 9ead597
    python bench/stg_bench.py --data ../shared/data/pal_format/valid_output.json.gz --n 64 --extra-dtype bfloat16
    python bench/stg_bench.py --tiny --n 12 --batch-sizes 4 --device cpu        # smoke run, seconds

Prints the machine's matmul peaks (measured in the same run), then one line per path: examples/s, useful GFLOP/s
(what the answer needs: every prompt token once, the candidates, the generate suffix and the new tokens; padding,
recomputed prefixes and finished rows are not counted), that rate as a fraction of the fp32 matmul peak, the ratio
to the first path, and how many selections and replies equal the two-pass path's; then, per shared path, the same
split by phase (shared prefill, selection, generation).
"""

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_bench import bench_examples, bench_model, bench_parser, model_label  # noqa: E402
from roofline import ModelShape, forward_flops, load_average, matmul_peaks  # noqa: E402

from pal_core.inference import (
    models,
    prompts,
    systems,  # noqa: E402
)
from pal_core.inference.generate import GenerationConfig  # noqa: E402
from pal_core.inference.lm_selector import LMSelector  # noqa: E402
from pal_core.inference.selectors import SelectConfig, get_selector  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PHASES = ("prefill", "select", "generate")
# (name, shared prefill, early exit): the first is the reference for equal selections and replies
PATHS = (("two_pass_generate", False, False), ("shared_generate", True, False), ("shared_early_exit", True, True))


def _n_tokens(tokenizer, text: str) -> int:
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def useful_flops(shape: ModelShape, tokenizer, examples, rows) -> dict[str, float]:
    """FLOPs the answers need, by phase: the shared persona + history prefix once ("prefill"); the rest of the select
    prompt and the candidates after it ("select"); the generate suffix after the shared prefix and the new tokens,
    reply + end-of-turn, each with its logits ("generate")."""
    total = dict.fromkeys(PHASES, 0.0)
    for ex, row in zip(examples, rows, strict=True):
        select_ids = tokenizer(
            prompts.render_prompt(tokenizer, prompts.select_messages(ex.persona, ex.history)), add_special_tokens=False
        )["input_ids"]
        shared = systems._shared_length(tokenizer, ex, select_ids)
        total["prefill"] += forward_flops(shape, shared)
        total["select"] += forward_flops(shape, len(select_ids) - shared, offset=shared)
        for cand in prompts.select_candidates(ex.persona):
            n = _n_tokens(tokenizer, cand)
            total["select"] += forward_flops(shape, n, offset=len(select_ids), logits=n)
        sentence = ex.persona[row["selected_index"]] if row["selected_index"] >= 0 else None
        gen = _n_tokens(
            tokenizer, prompts.render_prompt(tokenizer, prompts.generate_messages(ex.persona, ex.history, sentence))
        )
        total["generate"] += forward_flops(shape, gen - shared, offset=shared)
        new = _n_tokens(tokenizer, row["response"]) + 1
        total["generate"] += forward_flops(shape, new, offset=gen, logits=new)
    return total


class PhaseClock:
    """Seconds spent in candidate scoring (`LMSelector.select_after`) and generation (`systems.generate_after`)
    while a shared-prefill run goes; the rest of its time is the shared prefill (and tokenization)."""

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(PHASES, 0.0)

    def _timed(self, fn, phase: str):
        def run(*args, **kwargs):
            began = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[phase] += time.perf_counter() - began

        return run

    def __enter__(self):
        self.saved = LMSelector.select_after, systems.generate_after
        LMSelector.select_after = self._timed(LMSelector.select_after, "select")
        systems.generate_after = self._timed(systems.generate_after, "generate")
        return self

    def __exit__(self, *exc) -> None:
        LMSelector.select_after, systems.generate_after = self.saved


def run_commit(commit: str, args, batch: int) -> tuple[float, list[dict]]:
    """Seconds and rows of `commit`'s Select-then-Generate on the same examples (bench/stg_commit_worker.py)."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", commit, "pal_core"], check=True, capture_output=True
        )
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        out = Path(tmp) / "rows.json"
        flags = [f"--{k}={v}" for k, v in (("data", args.data), ("model", args.model), ("device", args.device),
                                           ("dtype", args.dtype)) if v is not None]  # fmt: skip
        subprocess.run([sys.executable, str(Path(__file__).with_name("stg_commit_worker.py")), tmp, str(out), *flags,
                        f"--n={args.n}", f"--batch={batch}", f"--select-batch={args.select_batch}",
                        f"--max-new-tokens={args.max_new_tokens}"], check=True)  # fmt: skip
        result = json.loads(out.read_text(encoding="utf-8"))
    return result["seconds"], result["rows"]


def main() -> None:
    parser = bench_parser(__doc__, 64, [32])
    parser.add_argument("--select-batch", type=int, default=8, help="examples per candidate-scoring pass")
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--baseline-commit", default=None, help="also time this commit's default path (needs --data)")
    parser.add_argument("--extra-dtype", default=None, help="also run the default path with the model in this dtype")
    args = parser.parse_args()
    if args.baseline_commit and (args.data is None or args.tiny):
        parser.error("--baseline-commit needs --data and a real --model (not --tiny)")
    if args.extra_dtype and args.tiny:
        parser.error("--extra-dtype needs a real --model (not --tiny)")

    model, tokenizer = bench_model(args)
    examples = bench_examples(args.data, args.n)
    shape = ModelShape.of(model.config)
    peaks = matmul_peaks()
    peak = max(peaks["fp32_square"], peaks["fp32_mlp"])
    print(f"# {model_label(args, model)}, {len(examples)} examples, {args.max_new_tokens} new tokens, greedy; "
          f"load average {load_average()}; matmul peaks GFLOP/s: "
          + ", ".join(f"{k} {v:.1f}" for k, v in peaks.items()))  # fmt: skip
    print("path\tbatch\texamples/s\tuseful GFLOP/s\tof fp32 peak\tx first\tsame selections\tsame replies")
    selector = get_selector(
        "lm", model=model, tokenizer=tokenizer, config=SelectConfig(select_batch_size=args.select_batch)
    )
    extra_selector = None
    if args.extra_dtype:
        extra_model, _ = models.load_lm(args.model, device=args.device, dtype=args.extra_dtype)
        extra_selector = get_selector(
            "lm", model=extra_model, tokenizer=tokenizer, config=SelectConfig(select_batch_size=args.select_batch)
        )
    for batch in args.batch_sizes:
        first_rate, reference, phase_lines = None, None, []
        if args.baseline_commit:
            seconds, rows = run_commit(args.baseline_commit, args, batch)
            first_rate = len(rows) / seconds
            print(f"commit_{args.baseline_commit}\t{batch}\t{first_rate:.3f}\t-\t-\t1.00\t-\t-", flush=True)
        paths = [(name, share, early, selector) for name, share, early in PATHS]
        if args.extra_dtype:
            paths.append((f"shared_early_exit_{args.extra_dtype}", True, True, extra_selector))
        for name, share, early, path_selector in paths:
            cfg = GenerationConfig(max_new_tokens=args.max_new_tokens, batch_size=batch, early_exit=early)
            with PhaseClock() as clock:
                began = time.perf_counter()
                rows = systems.select_then_generate(
                    examples, path_selector, path_selector.model, tokenizer, cfg, share_prefill=share
                )
                seconds = time.perf_counter() - began
            reference = reference or rows
            rate = len(rows) / seconds
            first_rate = first_rate or rate
            flops = useful_flops(shape, tokenizer, examples, rows)
            gflops = sum(flops.values()) / seconds / 1e9
            same_sel = sum(a["selected_index"] == b["selected_index"] for a, b in zip(rows, reference, strict=True))
            same_reply = sum(a["response"] == b["response"] for a, b in zip(rows, reference, strict=True))
            print(f"{name}\t{batch}\t{rate:.3f}\t{gflops:.3g}\t{gflops / peak:.2f}\t{rate / first_rate:.2f}\t"
                  f"{same_sel}/{len(rows)}\t{same_reply}/{len(rows)}", flush=True)  # fmt: skip
            if share:
                clock.seconds["prefill"] = seconds - clock.seconds["select"] - clock.seconds["generate"]
                phase_lines += [f"{name}\t{batch}\t{phase}\t{clock.seconds[phase]:.2f}\t"
                                f"{clock.seconds[phase] / seconds:.2f}\t{flops[phase] / clock.seconds[phase] / 1e9:.3g}\t"
                                f"{flops[phase] / clock.seconds[phase] / 1e9 / peak:.2f}" for phase in PHASES]  # fmt: skip
        print("path\tbatch\tphase\tseconds\tshare of time\tuseful GFLOP/s\tof fp32 peak")
        print("\n".join(phase_lines), flush=True)
    print(f"# load average at the end {load_average()}")


if __name__ == "__main__":
    main()

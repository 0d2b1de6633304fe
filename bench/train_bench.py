"""Training throughput of `pal train sft` / `pal train dpo` against TRL's trainers with their default settings, on
the same rows in one run: rows/s and real (non-padding) tokens/s, the ratio to TRL's default, and the share of the
measured fp32 matmul peak the real tokens' FLOPs reach.

    python bench/train_bench.py --data ~/.cache/pal-studio/campaign/data/train_labelled.jsonl --steps 6
    python bench/train_bench.py --tiny --steps 2                               # smoke run, seconds

SFT paths (mixture rows, batch 8, --steps optimizer steps each, fp32 CPU):
  trl_default      SFTTrainer as TRL ships it: full fine-tune, random batches
  full_grouped     full fine-tune, length-grouped batches
  lora_random      LoRA r16 on q/k/v/o, random batches
  lora_grouped     LoRA r16 on q/k/v/o, length-grouped batches (what docs/results/pal_cpu/run.sh trains with)
DPO paths (pairs, batch 8): trl_default (full fine-tune, a reference model copy) and lora (the stage-1 LoRA trained on
against a frozen copy, as the campaign's stage 2 does).
FLOPs per real token: 3x the forward (full fine-tune: weight and activation gradients) or 2x (LoRA: activation
gradients only, the adapters are negligible); a DPO pair adds the reference model's forward.
"""

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_bench import save_tiny_llama  # noqa: E402
from roofline import ModelShape, forward_flops, load_average, matmul_peaks  # noqa: E402

from pal_core.data.loaders import demo_examples_path, load_examples, write_examples  # noqa: E402
from pal_core.inference import models
from pal_core.training import train  # noqa: E402
from pal_core.training.records import build_sft_rows, make_preference_record, write_preferences  # noqa: E402

LORA = {
    "use_lora": True,
    "lora_r": 16,
    "lora_alpha": 32,
    "lora_target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"],
}
COMMON = {"per_device_train_batch_size": 8, "logging_steps": 1000, "save_strategy": "no", "disable_tqdm": True,
          "report_to": "none", "seed": 0}  # fmt: skip


def row_lengths(tokenizer, messages: list[list[dict]]) -> list[tuple[int, int]]:
    """(all tokens, target tokens) of each conversation as the trainer tokenizes it (chat template applied)."""
    out = []
    for conversation in messages:
        text = tokenizer.apply_chat_template(conversation, tokenize=False)
        target = len(tokenizer(conversation[-1]["content"], add_special_tokens=False)["input_ids"]) + 1
        out.append((len(tokenizer(text, add_special_tokens=False)["input_ids"]), target))
    return out


def train_flops(shape: ModelShape, lengths: list[tuple[int, int]], passes: int) -> float:
    """`passes` forward-equivalents per row (LM head only on target tokens, as TRL's fused head computes it)."""
    return passes * sum(forward_flops(shape, n, logits=target) for n, target in lengths)


def run_sft(base: str, data: Path, out: Path, steps: int, pal_fields: dict, trainer_fields: dict) -> float:
    cfg = train.PalSftConfig(model=base, train_file=str(data), merge_lora=False, **pal_fields)
    args = train.make_sft_args(output_dir=str(out), max_steps=steps, **COMMON, **trainer_fields)
    began = time.perf_counter()
    train.train_sft(cfg, args)
    return time.perf_counter() - began


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=None, help="labelled examples (default: the bundled demo set)")
    parser.add_argument("--model", default=None, help="LM name or path (default: the offline SmolLM2-135M)")
    parser.add_argument("--tiny", action="store_true", help="a random 2-layer Llama instead of --model")
    parser.add_argument("--steps", type=int, default=6, help="optimizer steps per path (batch 8)")
    args = parser.parse_args()

    from transformers import AutoConfig, AutoTokenizer

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        base = str(save_tiny_llama(tmp / "tiny")) if args.tiny else str(models.resolve_lm_path(args.model))
        tokenizer = AutoTokenizer.from_pretrained(base)
        shape = ModelShape.of(AutoConfig.from_pretrained(base))
        n_rows = 8 * args.steps
        examples = [e for e in load_examples(args.data or demo_examples_path()) if e.persona_label is not None]
        examples = (examples * (n_rows // max(len(examples), 1) + 1))[: (n_rows + 1) // 2]
        data = tmp / "train.jsonl"
        write_examples(examples, data, fmt="jsonl")
        rows = build_sft_rows(examples, ("select", "generate"))[:n_rows]
        lengths = row_lengths(tokenizer, [r["prompt"] + r["completion"] for r in rows])
        tokens = sum(n for n, _ in lengths)
        peaks = matmul_peaks()
        peak = max(peaks["fp32_square"], peaks["fp32_mlp"])
        print(f"# {'tiny random Llama' if args.tiny else base}, {len(rows)} SFT rows ({tokens} real tokens) per path, "
              f"batch 8, {args.steps} steps; load average {load_average()}; fp32 peak {peak:.1f} GFLOP/s")  # fmt: skip
        print("path\trows/s\treal tokens/s\tx trl_default\tof fp32 peak")
        paths = {
            "trl_default": ({}, {"learning_rate": 2e-5}),
            "full_grouped": ({}, {"train_sampling_strategy": "group_by_length"}),
            "lora_random": (LORA, {}),
            "lora_grouped": (LORA, {"train_sampling_strategy": "group_by_length"}),
        }
        base_rate = None
        for name, (pal_fields, trainer_fields) in paths.items():
            seconds = run_sft(base, data, tmp / name, args.steps, pal_fields, trainer_fields)
            rate = tokens / seconds
            base_rate = base_rate or rate
            flops = train_flops(shape, lengths, 2 if pal_fields.get("use_lora") else 3)
            print(f"{name}\t{len(rows) / seconds:.2f}\t{rate:.0f}\t{rate / base_rate:.2f}\t"
                  f"{flops / seconds / 1e9 / peak:.2f}", flush=True)  # fmt: skip

        stage1 = tmp / "lora_grouped"
        pairs = tmp / "pairs.jsonl"
        records = [
            make_preference_record(id=f"p{i}", persona=e.persona, history=e.history, persona_sentence=None,
                                   chosen=e.response, rejected="i do not know .", provenance={"source": "human"})
            for i, e in enumerate(examples)
        ]  # fmt: skip
        write_preferences(records, pairs)
        n_pairs = min(len(records), 8 * args.steps)
        dpo_lengths = row_lengths(
            tokenizer, [r["prompt"] + r[side] for r in records[:n_pairs] for side in ("chosen", "rejected")]
        )
        dpo_tokens = sum(n for n, _ in dpo_lengths)
        print("dpo path\tpairs/s\treal tokens/s\tx trl_default\tof fp32 peak")
        dpo_paths = {"trl_default": (base, False, 1e-6), "lora": (str(stage1), True, 5e-5)}
        base_rate = None
        for name, (start, lora, lr) in dpo_paths.items():
            cfg = train.PalDpoConfig(model=start, train_file=str(pairs), use_lora=lora, merge_lora=False)
            dpo_args = train.make_dpo_args(output_dir=str(tmp / f"dpo_{name}"), max_steps=args.steps,
                                           learning_rate=lr, **COMMON)  # fmt: skip
            began = time.perf_counter()
            train.train_dpo(cfg, dpo_args)
            seconds = time.perf_counter() - began
            rate = dpo_tokens / seconds
            base_rate = base_rate or rate
            # policy forward + backward, and the reference forward
            flops = train_flops(shape, dpo_lengths, (2 if lora else 3) + 1)
            print(f"{name}\t{n_pairs / seconds:.2f}\t{rate:.0f}\t{rate / base_rate:.2f}\t"
                  f"{flops / seconds / 1e9 / peak:.2f}", flush=True)  # fmt: skip
    print(f"# load average at the end {load_average()}")


if __name__ == "__main__":
    main()

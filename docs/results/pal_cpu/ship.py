"""Ship the campaign's PAL adapter inside the package: fp16 safetensors + adapter config + model card.

    python docs/results/pal_cpu/ship.py --adapter ~/.cache/pal-studio/campaign/pal \
        --summary docs/results/pal_cpu/summary.json --out pal_core/demo/pal-smollm2-135m

The adapter's base is named `smollm2-135m-instruct` (the offline default LM), so `pal evaluate --model
pal-smollm2-135m` and the Playground load base + adapter with nothing downloaded. The card's figures are read from
summary.json (the 1,000-turn evaluation); it refuses an adapter over the 8 MB budget.
"""

import argparse
import json
import sys
from pathlib import Path

MAX_BYTES = 8 * 1024 * 1024
CARD = """# pal-smollm2-135m

A LoRA adapter for SmolLM2-135M-Instruct (the offline default LM of PAL Studio) trained with PAL (Persona-Aware
Alignment): stage-1 mixture SFT (select + generate tasks), then stage-2 DPO against the same model's persona-free
replies, with an SFT term on the chosen reply. At inference it runs Select-then-Generate: it first names the
persona sentence the reply should use (or "No persona sentence."), then replies with it. Loaded offline by name:

    pal evaluate --model pal-smollm2-135m --system select_then_generate --selector lm --data FILE

## Data
- Training: the first 2,000 turns ({n_rows} select + generate rows) of the RCDG PersonaChat **train** sample
  (`rcdg/per|src|tgt-train`, one utterance of history), persona labels by PAL Studio's consistency classifier
  (MiniLM cross-encoder trained on DNLI train + silver PersonaChat-train pairs; DNLI dev accuracy {cons_acc}),
  entail threshold 0.9.
- Stage-2 pairs: {n_pairs} (chosen = gold reply with the gold-sentence prompt, rejected = the stage-1 model's greedy
  persona-free reply).
- No validation or test turn was used for training or for choosing any setting.

## Recipe
- LoRA r 16, alpha 32, dropout 0.05 on q/k/v/o projections; stage 1: lr 2e-4 cosine, 10 warm-up steps, batch 8 x 2,
  1 epoch, length-grouped batches; stage 2: sigmoid DPO beta 0.1 plus an SFT (negative log-likelihood) term on the
  chosen reply with weight 1, lr 5e-5, batch 8, 1 epoch, the stage-1 adapter trained on against a frozen copy of
  itself as the reference. CPU (2 cores), fp32; weights stored in fp16.
- Fixed before evaluation except the SFT term: plain DPO (recipe v1, the table's "collapsed" row) fell into
  repetitive replies, and the SFT term was added after seeing that, run once, nothing swept (docs/results.md).
- Command: `bash docs/results/pal_cpu/run.sh` (every step, resumable).

## Results: first 1,000 ConvAI2 validation turns (greedy, 32 new tokens)
{table}

C-score and selection accuracy are judged by the classifier above against the published persona labels of the
validation set (`pal_format/valid_output.json`). Full analysis: docs/results.md.

## Limits
A 135M-parameter model trained for about {hours} hours on a 2-core CPU on 2,000 turns: its replies often restate
the persona sentence it chose (which lifts C-score), they vary less than the SFT baseline's, and its persona
selection is weak (see the table and docs/results.md). Intended for demos and for research on persona selection, not
for deployment.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--adapter", type=Path, required=True)
    parser.add_argument("--summary", type=Path, required=True)
    parser.add_argument("--table", type=Path, default=None, help="table.md (default: beside --summary)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    import torch
    from safetensors.torch import load_file, save_file

    tensors = {k: v.to(torch.float16) for k, v in load_file(args.adapter / "adapter_model.safetensors").items()}
    config = json.loads((args.adapter / "adapter_config.json").read_text())
    if config.get("base_model_name_or_path") != "smollm2-135m-instruct":
        base = config.get("base_model_name_or_path")
        sys.exit(f"error: {args.adapter}: expected an adapter over smollm2-135m-instruct, got {base!r}")
    args.out.mkdir(parents=True, exist_ok=True)
    save_file(tensors, args.out / "adapter_model.safetensors", metadata={"format": "pt"})
    (args.out / "adapter_config.json").write_text(json.dumps(config, indent=2) + "\n")
    (args.out / "adapter_model.safetensors").chmod(0o644)  # package data: readable by every user
    size = (args.out / "adapter_model.safetensors").stat().st_size
    if size > MAX_BYTES:
        sys.exit(f"error: {args.out}: expected an adapter of at most 8 MB, got {size / 2**20:.1f} MB")

    summary = json.loads(args.summary.read_text())
    training = summary.get("training", {})
    table = (args.table or args.summary.parent / "table.md").read_text().strip()
    seconds = sum((training.get(k) or {}).get("train_runtime_s") or 0 for k in ("stage1", "pal_v2"))
    cons = args.summary.parent / "consistency.metrics.json"
    cons_acc = json.loads(cons.read_text()).get("dev", {}).get("accuracy") if cons.is_file() else None
    card = CARD.format(
        n_rows=(training.get("stage1") or {}).get("n_train_records", "?"),
        n_pairs=(training.get("pal_v2") or {}).get("n_train_records", "?"),
        cons_acc=f"{cons_acc:.4f}" if cons_acc else "see docs/consistency.md",
        table=table,
        hours=f"{seconds / 3600:.1f}",
    )
    (args.out / "README.md").write_text(card)
    print(f"shipped {size / 2**20:.2f} MB adapter to {args.out}")


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# The CPU results pipeline (no GPU lent): label PersonaChat train turns with the consistency classifier, train the
# persona-in-prompt SFT baseline, stage 1 (mixture SFT), rejected sampling and stage 2 (DPO) on a small subset, then
# evaluate them on the same first 300 ConvAI2 validation turns as docs/results/cpu_valid300/run.sh.
# Run from the repository root: bash docs/results/cpu_subset/run.sh   (prints TIMING lines per step)
# Nothing here reads the validation set before the evaluation step; no setting was chosen by looking at it.
set -euo pipefail
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
D=${D:-../shared/data}
R=${R:-runs/cpu2}
OUT=${OUT:-runs/cpu-valid300}
CONS=${CONSISTENCY:-}   # consistency model directory for labels and C-score; empty = the default one
T0=$(date +%s)
stamp() { echo "TIMING $1 $(( $(date +%s) - T0 ))s"; T0=$(date +%s); }
mkdir -p $R/data

# 1. Training data: the first 400 turns of the RCDG PersonaChat train sample, persona labels from our classifier.
[ -f $R/data/train400.jsonl ] || pal data convert $D/rcdg/per-train.txt.gz $R/data/train400.jsonl --limit 400
[ -f $R/data/train400_labelled.jsonl ] || pal label --data $R/data/train400.jsonl --out $R/data/train400_labelled.jsonl \
  --threshold 0.5 ${CONS:+--model $CONS}
stamp label
TRAIN=$R/data/train400_labelled.jsonl

# 2. Training: 100 examples, 1 epoch, lr 5e-5 (tiny step budget; PAL's own recipe is in pal_core/training/train.py defaults).
COMMON="--limit 100 --num_train_epochs 1 --per_device_train_batch_size 8 --learning_rate 5e-5 --logging_steps 2 --save_steps 1000 --max_length 384"
[ -f $R/sft_mixture/metrics.json ] || pal train sft --train_file $TRAIN --output_dir $R/sft_mixture $COMMON; stamp sft_mixture
[ -f $R/sft_baseline/metrics.json ] || pal train sft --train_file $TRAIN --tasks full_persona --output_dir $R/sft_baseline $COMMON; stamp sft_baseline
[ -f $R/data/pairs.jsonl ] || pal sample-rejected --model $R/sft_mixture --data $TRAIN --limit 100 --out $R/data/pairs.jsonl --batch_size 20 --max_new_tokens 32; stamp rejected
[ -f $R/pal_dpo/metrics.json ] || pal train dpo --model $R/sft_mixture --train_file $R/data/pairs.jsonl --output_dir $R/pal_dpo --num_train_epochs 1 --per_device_train_batch_size 8 --learning_rate 5e-6 --use_lora false --logging_steps 2 --save_steps 1000; stamp dpo

# 3. Evaluation on the first 300 validation turns, greedy, 32 new tokens.
EV="--data $D/pal_format/valid_output.json.gz --limit 300 --max_new_tokens 32 --batch_size 32 --device cpu ${CONS:+--consistency_model $CONS}"
ev() { local name=$1; shift; [ -f $OUT/$name/metrics.json ] || pal evaluate --output_dir $OUT/$name $EV "$@"; stamp "eval_$name"; }
ev sft_full_persona --system full_persona --model $R/sft_baseline
ev stage1_stg --system select_then_generate --selector lm --model $R/sft_mixture
ev pal_stg --system select_then_generate --selector lm --model $R/pal_dpo
ev pal_gold_persona --system gold_persona --model $R/pal_dpo
pal compare $OUT/*/ | tee $OUT/compare.md

#!/usr/bin/env bash
# CPU results pipeline on a small subset. Logs to /tmp/pipe/log.txt
set -euxo pipefail
cd /work/main
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
D=/work/shared/data
R=runs/cpu   # label step (before this script): pal label runs/cpu/data/rcdg_train_first400.jsonl runs/cpu/data/rcdg_train_labelled.jsonl --model runs/cpu/consistency --threshold 0.5
T0=$(date +%s)
pal() { python -m pal_core.cli "$@"; }
stamp() { echo "TIMING $1 $(( $(date +%s) - T0 ))s"; T0=$(date +%s); }
TRAIN=$R/data/rcdg_train_labelled.jsonl
COMMON="--limit 100 --num_train_epochs 1 --per_device_train_batch_size 8 --learning_rate 5e-5 --logging_steps 2 --save_steps 1000 --max_length 384"
[ -f $R/sft_mixture/metrics.json ] || pal train sft --train_file $TRAIN --output_dir $R/sft_mixture $COMMON; stamp sft_mixture
[ -f $R/sft_baseline/metrics.json ] || pal train sft --train_file $TRAIN --tasks full_persona --output_dir $R/sft_baseline $COMMON; stamp sft_baseline
[ -f $R/data/pairs.jsonl ] || pal sample-rejected --model $R/sft_mixture --data $TRAIN --limit 100 --out $R/data/pairs.jsonl --batch_size 20 --max_new_tokens 32; stamp rejected
[ -f $R/pal_dpo/metrics.json ] || pal train dpo --model $R/sft_mixture --train_file $R/data/pairs.jsonl --output_dir $R/pal_dpo --num_train_epochs 1 --per_device_train_batch_size 8 --learning_rate 5e-6 --use_lora false --logging_steps 2 --save_steps 1000; stamp dpo
V=$D/pal_format/valid_output.json.gz
EV="--data $V --limit 50 --max_new_tokens 32 --batch_size 25 --consistency_model $R/consistency"
ev() { local out=$1; shift; [ -f $R/eval/$out/metrics.json ] || pal evaluate --output_dir $R/eval/$out $EV "$@"; stamp "eval_$out"; }
ev untrained_persona_free --system persona_free
ev untrained_full_persona --system full_persona
ev sft_full_persona --system full_persona --model $R/sft_baseline
ev stage1_stg --system select_then_generate --selector lm --model $R/sft_mixture
ev pal_stg --system select_then_generate --selector lm --model $R/pal_dpo
ev pal_gold_oracle --system gold_persona --model $R/pal_dpo
ev untrained_stg --system select_then_generate --selector lm
pal compare $R/eval/*/ | tee $R/eval/compare.md

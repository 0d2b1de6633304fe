#!/usr/bin/env bash
# The CPU-subset models of run.sh (trained on 100 RCDG train turns) evaluated on the same first 300 ConvAI2
# validation turns as docs/results/cpu_valid300/run.sh, greedy, 32 new tokens. Run from the repository root after both.
set -euo pipefail
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
DATA=${DATA:-../shared/data/pal_format/valid_output.json.gz}
R=${R:-runs/cpu}
OUT=${OUT:-runs/cpu-valid300}
EV="--data $DATA --limit 300 --max_new_tokens 32 --batch_size 32 --device cpu"
ev() {
  local name=$1; shift
  [ -f "$OUT/$name/metrics.json" ] || /usr/bin/time -f "WALL $name %e s" pal evaluate --output_dir "$OUT/$name" $EV "$@"
}
ev trained_sft_full_persona --system full_persona --model $R/sft_baseline
ev trained_stage1_stg --system select_then_generate --selector lm --model $R/sft_mixture
ev trained_pal_stg --system select_then_generate --selector lm --model $R/pal_dpo
ev trained_pal_gold_persona --system gold_persona --model $R/pal_dpo
pal compare "$OUT"/*/ | tee "$OUT/compare.md"

#!/usr/bin/env bash
# Untrained SmolLM2-135M-Instruct on the first 300 ConvAI2 validation turns (PAL format, gold persona labels),
# greedy, 32 new tokens, CPU. Run from the repository root: bash docs/results/cpu_valid300/run.sh
# CONSISTENCY is the consistency-model directory used for C-score (default: the one `pal train consistency` saved).
set -euo pipefail
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
DATA=${DATA:-../shared/data/pal_format/valid_output.json.gz}
OUT=${OUT:-runs/cpu-valid300}
CONS=${CONSISTENCY:+--consistency_model $CONSISTENCY}
EV="--data $DATA --limit 300 --max_new_tokens 32 --batch_size 32 --device cpu $CONS"
ev() {
  local name=$1; shift
  [ -f "$OUT/$name/metrics.json" ] || /usr/bin/time -f "WALL $name %e s" pal evaluate --output_dir "$OUT/$name" $EV "$@"
}
ev persona_free --system persona_free
ev full_persona --system full_persona
ev gold_persona --system gold_persona
ev stg_lm --system select_then_generate --selector lm
ev stg_embedding --system select_then_generate --selector embedding
ev full_persona_swapped --system full_persona --swap_persona true
pal compare "$OUT"/*/ | tee "$OUT/compare.md"

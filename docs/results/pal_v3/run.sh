#!/usr/bin/env bash
# PAL v3 (issue 24): a selector that selects and replies that ground without restating. Resumable like
# docs/results/pal_cpu/run.sh: finished steps are skipped, each step appends "step seconds load-average commit" to
# $C/timings.tsv, training resumes from its last checkpoint.
#
#   bash docs/results/pal_v3/run.sh              # everything: study on the dev set, then the final run
#   STOP_AFTER=study bash docs/results/pal_v3/run.sh   # only the development-set study (steps 0-8)
#
# Every choice is made on a development set held out of the RCDG train sample (whole persona groups, `pal data split`),
# by the rules written in choose.py before any run; the validation turns are run once, at the end (step 9), and the
# blind inputs are only generated on. The rules:
#   selector   highest 2-fold none/sentence balanced accuracy on dev over {stage-1 variant} x {first, mean, sum},
#              with the none bias fitted on dev (select_study.py, choose.py selector)
#   stage 2    most grounded-without-restating on dev among the variants whose dev C-score beats the SFT baseline's
#              (choose.py stage2)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
C=${PAL_CAMPAIGN:-$HOME/.cache/pal-studio/campaign_v3}
source "$HERE/../campaign_lib.sh"   # ROOT, D, PAL, COMMIT and step()
CONS=${CONS:-$HOME/.cache/pal-studio/consistency}   # the retrained classifier (docs/consistency.md)
N_DEV=${N_DEV:-1000}          # development turns held out (whole persona groups; a few more when a group overshoots)
N_STUDY=${N_STUDY:-1500}      # training turns of the study variants
N_TRAIN=${N_TRAIN:-5000}      # training turns of the final run (issue 24: aim at >= 5,000)
N_EVAL=${N_EVAL:-1000}        # validation turns, final evaluation only
mkdir -p "$C/data" "$C/study" "$C/runs" "$C/blind" "$C/logs"
atomic() {  # atomic OUT COMMAND... (COMMAND writes OUT.partial.<ext>; renamed to OUT when complete)
  local out=$1; shift; local part="${out%.*}.partial.${out##*.}"
  "${@//@OUT@/$part}" && mv "$part" "$out"
}

# 0. The consistency classifier labels the data and scores C-score / grounded-without-restating.
[ -e "$CONS/metrics.json" ] || { echo "no consistency classifier at $CONS (train it: docs/consistency.md)"; exit 1; }

# 1. The 10,000-turn RCDG train sample, held-out development personas, persona labels for both sides.
step convert "$C/data/all.jsonl" atomic "$C/data/all.jsonl" $PAL data convert "$D/rcdg/per-train.txt.gz" @OUT@
step split "$C/data/dev.jsonl" bash -c "$PAL data split '$C/data/all.jsonl' --train_out '$C/data/train.jsonl' \
  --dev_out '$C/data/dev.partial.jsonl' --dev_turns $N_DEV --seed 0 && mv '$C/data/dev.partial.jsonl' '$C/data/dev.jsonl'"
for side in train dev; do
  step "label_$side" "$C/data/${side}_labelled.jsonl" atomic "$C/data/${side}_labelled.jsonl" \
    $PAL label --data "$C/data/$side.jsonl" --out @OUT@ --model "$CONS" --threshold 0.9
done
TRAIN="$C/data/train_labelled.jsonl" DEV="$C/data/dev_labelled.jsonl"

ATTN="q_proj k_proj v_proj o_proj"
ALL="q_proj k_proj v_proj o_proj gate_proj up_proj down_proj"
lora() { echo "--use_lora true --merge_lora false --lora_r 16 --lora_alpha 32 --lora_dropout 0.05 --lora_target_modules $1"; }
OPT="--learning_rate 2e-4 --lr_scheduler_type cosine --warmup_steps 10 --per_device_train_batch_size 8
  --gradient_accumulation_steps 2 --max_length 384 --train_sampling_strategy group_by_length --logging_steps 5
  --save_steps 10 --save_total_limit 2 --seed 0 --disable_tqdm true --resume true"
stage1() {  # stage1 NAME N_TURNS TARGETS TASKS...
  local name=$1 n=$2 targets=$3; shift 3
  step "$name" "$C/$name/metrics.json" $PAL train sft --train_file "$TRAIN" --limit "$n" --tasks "$@" \
    --output_dir "$C/$name" --num_train_epochs 1 $(lora "$targets") $OPT
}
study() {  # study NAME MODEL: the scoring-variant table on the dev turns (no retraining)
  step "select_study_$1" "$C/study/$1/select_study.json" python "$HERE/select_study.py" --model "$2" --data "$DEV" \
    --limit "$N_DEV" --out "$C/study/$1"
}
EVDEV="--data $DEV --limit $N_DEV --max_new_tokens 32 --batch_size 32 --device cpu --consistency_model $CONS"
evdev() { local name=$1; shift; step "dev_$name" "$C/study/runs/$name/metrics.json" $PAL evaluate --output_dir "$C/study/runs/$name" $EVDEV "$@"; }

# 2-4. Selection study: stage-1 variants on N_STUDY turns, every scoring variant on each (item 3).
stage1 s1_attn "$N_STUDY" "$ATTN" select generate          # the pal_cpu recipe, attention-only LoRA
stage1 s1_all "$N_STUDY" "$ALL" select generate            # LoRA on all linear layers
stage1 s1_selw "$N_STUDY" "$ATTN" select select generate   # select rows weighted x2 (each written twice)
for v in s1_attn s1_all s1_selw; do study "$v" "$C/$v"; done
read -r S1_DIR REDUCTION NONE_BIAS <<< "$(python "$HERE/choose.py" selector "$C/study/s1_attn" "$C/study/s1_all" "$C/study/s1_selw")"
S1=$(basename "$S1_DIR"); S1_TARGETS=$([ "$S1" = s1_all ] && echo "$ALL" || echo "$ATTN")
S1_TASKS=$([ "$S1" = s1_selw ] && echo "select select generate" || echo "select generate")
SEL="--selector lm --lm_reduction $REDUCTION --lm_none_bias $NONE_BIAS"
echo "selector: stage 1 $S1, lm_reduction $REDUCTION, none bias $NONE_BIAS" | tee "$C/study/choice_selector.txt"

# 5-7. Alignment study on the chosen stage 1 (item 4): rejected sampling, pair variants, DPO + SFT term, dev runs.
step rejected_study "$C/data/pairs_study.jsonl" atomic "$C/data/pairs_study.jsonl" $PAL sample-rejected \
  --model "$C/$S1" --data "$TRAIN" --limit "$N_STUDY" --out @OUT@ --batch_size 32 --max_new_tokens 32
DPO="--merge_lora false --learning_rate 5e-5 --per_device_train_batch_size 8 --num_train_epochs 1 --beta 0.1
  --max_length 384 --logging_steps 5 --save_steps 10 --save_total_limit 2 --seed 0 --disable_tqdm true --resume true
  --loss_type sigmoid sft --loss_weights 1.0 1.0"
for v in filter restate_negative select; do
  step "pairs_$v" "$C/data/pairs_$v.jsonl" python "$HERE/pair_variants.py" --pairs "$C/data/pairs_study.jsonl" \
    --variant "$v" --out "$C/data/pairs_$v.jsonl"
done
step s2_v2 "$C/s2_v2/metrics.json" $PAL train dpo --model "$C/$S1" --train_file "$C/data/pairs_study.jsonl" --output_dir "$C/s2_v2" $DPO
for v in filter restate_negative select; do
  step "s2_$v" "$C/s2_$v/metrics.json" $PAL train dpo --model "$C/$S1" --train_file "$C/data/pairs_$v.jsonl" \
    --output_dir "$C/s2_$v" $DPO
done
step sft_study "$C/sft_study/metrics.json" $PAL train sft --train_file "$TRAIN" --limit "$N_STUDY" --tasks full_persona \
  --output_dir "$C/sft_study" --num_train_epochs 2 $(lora "$ATTN") $OPT
evdev sft --system full_persona --model "$C/sft_study"
evdev "$S1" --system select_then_generate $SEL --model "$C/$S1"
for v in v2 filter restate_negative select; do evdev "s2_$v" --system select_then_generate $SEL --model "$C/s2_$v"; done
S2_RUN=$(python "$HERE/choose.py" stage2 "$C/study/runs/sft" "$C"/study/runs/s2_*)
S2=$(basename "$S2_RUN" | sed 's/^s2_//')
echo "stage 2: $S2" | tee "$C/study/choice_stage2.txt"
$PAL compare "$C"/study/runs/* > "$C/study/dev_table.md"
[ "${STOP_AFTER:-}" = study ] && { echo "study done: $C/study"; exit 0; }

# 9. The final run with the choices, on N_TRAIN turns; SFT baseline on the same turns and budget.
step s1_final "$C/s1_final/metrics.json" $PAL train sft --train_file "$TRAIN" --limit "$N_TRAIN" --tasks $S1_TASKS \
  --output_dir "$C/s1_final" --num_train_epochs 1 $(lora "$S1_TARGETS") $OPT
step rejected_final "$C/data/pairs_final.jsonl" atomic "$C/data/pairs_final.jsonl" $PAL sample-rejected \
  --model "$C/s1_final" --data "$TRAIN" --limit "$N_TRAIN" --out @OUT@ --batch_size 32 --max_new_tokens 32
PAIRS_FINAL="$C/data/pairs_final.jsonl"
if [ "$S2" != v2 ]; then
  step pairs_final_variant "$C/data/pairs_final_$S2.jsonl" python "$HERE/pair_variants.py" --pairs "$PAIRS_FINAL" \
    --variant "$S2" --out "$C/data/pairs_final_$S2.jsonl"
  PAIRS_FINAL="$C/data/pairs_final_$S2.jsonl"
fi
step s2_final "$C/s2_final/metrics.json" $PAL train dpo --model "$C/s1_final" --train_file "$PAIRS_FINAL" --output_dir "$C/s2_final" $DPO
step sft_final "$C/sft_final/metrics.json" $PAL train sft --train_file "$TRAIN" --limit "$N_TRAIN" --tasks full_persona \
  --output_dir "$C/sft_final" --num_train_epochs 2 $(lora "$ATTN") $OPT
EV="--data $D/pal_format/valid_output.json.gz --limit $N_EVAL --max_new_tokens 32 --batch_size 32 --device cpu
  --consistency_model $CONS"
ev() { local name=$1; shift; step "eval_$name" "$C/runs/$name/metrics.json" $PAL evaluate --output_dir "$C/runs/$name" $EV "$@"; }
ev persona_free --system persona_free
ev full_persona --system full_persona
ev sft_full_persona --system full_persona --model "$C/sft_final"
ev stage1_stg --system select_then_generate $SEL --model "$C/s1_final"
ev pal_stg --system select_then_generate $SEL --model "$C/s2_final"
ev pal_gold_persona --system gold_persona --model "$C/s2_final"
ev pal_stg_shipped_path --system select_then_generate --selector lm --model "$C/s2_final"   # mean, no bias: cost
step paired "$C/runs/paired.json" python "$HERE/paired.py" --baseline "$C/runs/sft_full_persona" \
  --consistency_model "$CONS" --out "$C/runs/paired.json" "$C/runs/pal_stg" "$C/runs/stage1_stg"
$PAL compare "$C"/runs/*/ > "$C/runs/table.md"
BL="--data $D/blind/personachat_test_inputs.jsonl.gz --limit $N_EVAL --max_new_tokens 32 --batch_size 32 --device cpu"
blind() { local name=$1; shift; step "blind_$name" "$C/blind/$name/config.json" $PAL generate --output_dir "$C/blind/$name" $BL "$@"; }
blind sft --system full_persona --model "$C/sft_final"
blind stage1_stg --system select_then_generate $SEL --model "$C/s1_final"
blind pal_stg --system select_then_generate $SEL --model "$C/s2_final"
echo "done: tables in $C/study/dev_table.md and $C/runs/table.md, paired tests in $C/runs/paired.json"
echo "next by hand: copy metrics/blind outputs as docs/results/pal_cpu/report.py does, ship s2_final (pal_cpu/ship.py)"

# Shared by the campaign scripts (pal_cpu/run.sh, pal_v3/run.sh); sourced once HERE (the script's folder) and C (the
# campaign folder) are set. Defaults: ROOT the repository, D the shared data, PAL the CLI, COMMIT the code's commit.
set -euo pipefail
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
ROOT=${ROOT:-$(cd "$HERE/../../.." && pwd)}
D=${D:-$ROOT/../shared/data}
PAL=${PAL:-python -m pal_core.cli}
COMMIT=${COMMIT:-$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)}
mkdir -p "$C/logs"

# step NAME DONE_FILE COMMAND...: run COMMAND unless DONE_FILE exists; log its output and wall time.
step() {
  local name=$1 done_file=$2; shift 2
  if [ -e "$done_file" ]; then echo "skip $name ($done_file exists)"; return 0; fi
  echo "run  $name: $*"
  local t0; t0=$(date +%s)
  "$@" > "$C/logs/$name.log" 2>&1 || { echo "FAILED $name: see $C/logs/$name.log"; tail -5 "$C/logs/$name.log"; exit 1; }
  printf '%s\t%s\t%s\t%s\n' "$name" $(( $(date +%s) - t0 )) "$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' ,)" "$COMMIT" \
    >> "$C/timings.tsv"
}

#!/usr/bin/env bash
# Run the campaign in the background from a snapshot of the committed code, so edits in the work tree never reach a
# running step:   bash docs/results/pal_cpu/launch.sh      (log: $PAL_CAMPAIGN/logs/campaign.out)
# Finished steps are skipped and training resumes from its newest complete checkpoint, so launching again after a
# stop (or a new commit) carries on where it stopped, with the newer code for the steps still to run.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
C=${PAL_CAMPAIGN:-$HOME/.cache/pal-studio/campaign}
SHA=$(git -C "$ROOT" rev-parse --short HEAD)
SRC=$C/src-$SHA
mkdir -p "$C/logs"
if pgrep -f "docs/results/pal_cpu/run.sh" >/dev/null; then
  echo "error: a campaign is already running (pgrep -af docs/results/pal_cpu/run.sh); stop it first" >&2
  exit 2
fi
if [ ! -d "$SRC" ]; then
  rm -rf "$SRC.tmp" && mkdir -p "$SRC.tmp" && git -C "$ROOT" archive "$SHA" | tar -x -C "$SRC.tmp" && mv "$SRC.tmp" "$SRC"
fi
cd "$SRC"
PYTHONPATH=$SRC COMMIT=$SHA ROOT=$ROOT D=${D:-$ROOT/../shared/data} PAL_CAMPAIGN=$C \
  nohup bash docs/results/pal_cpu/run.sh >> "$C/logs/campaign.out" 2>&1 &
echo "campaign running from $SRC (pid $!), log $C/logs/campaign.out"

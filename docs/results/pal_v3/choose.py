"""The choices of the campaign, made on the development set by rules fixed before any run (docs/results.md):

    python docs/results/pal_v3/choose.py selector STUDY_DIR...   # prints: <study dir> <lm_reduction> <none bias>
    python docs/results/pal_v3/choose.py stage2 SFT_RUN RUN...    # prints: <run dir>

selector: among the select studies (select_study.py outputs, one per stage-1 variant) and their scoring variants,
the highest 2-fold none/sentence balanced accuracy (the fit is scored on turns it was not fitted on); ties: higher
top-1 among sentences. The fitted bias of that row is the one the final run uses.
stage2: among the stage-2 variants' development runs whose C-score beats the SFT baseline's, the most grounded
without restating; none beats SFT: the highest C-score (said in the output).
"""

import json
import sys
from pathlib import Path


def choose_selector(study_dirs: list[str]) -> str:
    best = None
    for d in study_dirs:
        study = json.loads((Path(d) / "select_study.json").read_text())
        for reduction, entry in study["variants"].items():
            key = (entry["two_fold"]["balanced_accuracy"], entry["fitted"]["top1_among_sentences"])
            if best is None or key > best[0]:
                best = (key, d, reduction, entry["fitted"]["none_bias"])
    _, d, reduction, bias = best
    return f"{d} {reduction} {bias:.6f}"


def choose_stage2(sft_run: str, runs: list[str]) -> str:
    metrics = {r: json.loads((Path(r) / "metrics.json").read_text()) for r in runs}
    sft_c = json.loads((Path(sft_run) / "metrics.json").read_text())["c_score"]
    beating = [r for r in runs if metrics[r]["c_score"] > sft_c]
    if beating:
        return max(beating, key=lambda r: metrics[r]["grounded_without_restating"])
    print("no stage-2 variant beats SFT's C-score on the development set: taking the highest C-score", file=sys.stderr)
    return max(runs, key=lambda r: metrics[r]["c_score"])


if __name__ == "__main__":
    what, rest = sys.argv[1], sys.argv[2:]
    print(choose_selector(rest) if what == "selector" else choose_stage2(rest[0], rest[1:]))

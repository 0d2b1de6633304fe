"""Paired tests of each system's run against a baseline run on the same turns: per-reply C-score and grounded without
restating, 95% bootstrap interval of the mean difference and sign test (analysis.significance.paired_against_baseline).

    python docs/results/pal_v3/paired.py --baseline runs/sft_full_persona --consistency_model DIR runs/pal ... \
        --out paired.json
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from pal_core.analysis.scoring import load_consistency, nli_labels  # noqa: E402
from pal_core.analysis.significance import paired_against_baseline  # noqa: E402
from pal_core.data.loaders import iter_json_lines  # noqa: E402


def rows_and_labels(run: Path, model) -> tuple[list[dict], list[list[int]]]:
    rows = [row for _, _, row in iter_json_lines(run / "outputs.jsonl")]
    labels, _ = nli_labels(model, [r["persona"] for r in rows], [r["response"] for r in rows])
    return rows, labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--baseline", type=Path, required=True)
    parser.add_argument("--consistency_model", required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    model = load_consistency(args.consistency_model, required=True)
    base_rows, base_labels = rows_and_labels(args.baseline, model)
    result = {"baseline": str(args.baseline), "consistency_model": args.consistency_model, "runs": {}}
    for run in args.runs:
        rows, labels = rows_and_labels(run, model)
        result["runs"][run.name] = paired_against_baseline(rows, labels, base_rows, base_labels)
        for name, test in result["runs"][run.name].items():
            b = test["bootstrap"]
            print(f"{run.name} vs {args.baseline.name} {name}: {b['mean_difference']:+.3f} "
                  f"[{b['ci_low']:+.3f}, {b['ci_high']:+.3f}], sign test p {test['sign_test']['p_value']:.2g}")  # fmt: skip
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

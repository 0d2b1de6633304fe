"""The scoring-variant table of issue 24 item 3: one LM (a stage-1 model), the development turns, every way the LM
selector can score, with and without a none bias fitted on those turns. No retraining.

    python docs/results/pal_v3/select_study.py --model DIR --data dev_labelled.jsonl --limit 1000 --out DIR

Variants: lm_reduction first (the answer's first token: the number or "No"; the prompt pass alone), mean and sum
(the whole candidate line). For each: seconds and examples/s of raw scoring; with gold labels, the table row at bias 0,
at the bias fitted on all the given turns (`fit_none_bias`, the value a final run would use), and a 2-fold estimate of
that fit that does not score the turns it was fitted on (fit on one half of the persona groups, score the other, both
ways, mean). Unlabelled turns (no consistency classifier yet) give only timings and how often each variant says none.
Writes select_study.json and select_study.md into --out.
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from pal_core.analysis.selection_study import fit_none_bias, select_with_bias, study_row  # noqa: E402
from pal_core.data.loaders import load_examples  # noqa: E402
from pal_core.data.split import split_by_persona  # noqa: E402
from pal_core.inference.lm_selector import LMSelector  # noqa: E402
from pal_core.inference.models import load_lm  # noqa: E402

VARIANTS = ("first", "mean", "sum")
COLUMNS = ("selection_accuracy", "balanced_accuracy", "selected_none", "top1_among_sentences", "top1_chance")


def two_fold(examples, scores, gold) -> dict:
    """Balanced accuracy and top-1 when the bias is fitted on one half of the persona groups and scored on the other."""
    _, half = split_by_persona(examples, dev_turns=len(examples) // 2, seed=1)
    in_b = {e.id for e in half}
    sides = [[i for i, e in enumerate(examples) if (e.id in in_b) == side] for side in (False, True)]
    rows = []
    for fit_on, score_on in (sides, sides[::-1]):
        bias = fit_none_bias([scores[i] for i in fit_on], [gold[i] for i in fit_on])["none_bias"]
        rows.append(study_row([scores[i] for i in score_on], [gold[i] for i in score_on], bias))
    return {k: sum(r[k] for r in rows) / 2 for k in ("selection_accuracy", "balanced_accuracy", "selected_none")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="LM or adapter dir (e.g. the stage-1 adapter)")
    parser.add_argument("--data", type=Path, required=True, help="development turns (labelled by `pal label`)")
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    examples = load_examples(args.data)[: args.limit]
    labelled = all(e.persona_label is not None for e in examples)
    gold = [list(e.persona_label) for e in examples] if labelled else None
    model, tokenizer = load_lm(args.model, device=args.device)
    result = {"model": args.model, "data": str(args.data), "n": len(examples), "labelled": labelled, "variants": {}}
    for reduction in VARIANTS:
        selector = LMSelector(
            model, tokenizer, batch_size=args.batch_size, mode="score", reduction=reduction, prefix_cache=True
        )
        selector.raw_scores(examples[:1])  # warm-up, not timed
        began = time.perf_counter()
        scores = selector.raw_scores(examples)
        seconds = time.perf_counter() - began
        entry = {"seconds": round(seconds, 2), "examples_per_s": round(len(examples) / seconds, 2)}
        entry["selected_none_at_0"] = sum(i == -1 for i in select_with_bias(scores)) / len(examples)
        if labelled:
            fit = fit_none_bias(scores, gold)
            entry.update(
                at_zero=study_row(scores, gold, 0.0),
                fitted=study_row(scores, gold, fit["none_bias"]),
                two_fold=two_fold(examples, scores, gold),
            )
        result["variants"][reduction] = entry
        print(reduction, json.dumps(entry), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "select_study.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        f"{len(examples)} development turns, model {args.model}" + ("" if labelled else " (unlabelled: no gold)"),
        "",
        "| scoring | none bias | "
        + " | ".join(COLUMNS if labelled else ("selected_none",))
        + " | 2-fold bal. acc | ex/s |",
        "|---|---:|" + "---:|" * ((len(COLUMNS) if labelled else 1) + 2),
    ]
    for reduction, entry in result["variants"].items():
        rows = [("0", entry.get("at_zero")), ("fitted", entry.get("fitted"))] if labelled else [("0", None)]
        for name, row in rows:
            cells = [f"{row[k]:.3f}" for k in COLUMNS] if row else [f"{entry['selected_none_at_0']:.3f}"]
            bias = name if row is None else f"{row['none_bias']:+.3f}"
            fold = f"{entry['two_fold']['balanced_accuracy']:.3f}" if row and name == "fitted" else "-"
            lines.append(f"| {reduction} | {bias} | " + " | ".join(cells) + f" | {fold} | {entry['examples_per_s']} |")
    (args.out / "select_study.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

"""Turn the campaign's artefacts (docs/results/pal_cpu/run.sh) into what lands in the repository.

    python docs/results/pal_cpu/report.py --campaign ~/.cache/pal-studio/campaign --out docs/results/pal_cpu \
        --blind-out docs/results/blind

Writes into --out: every evaluation run's metrics and config (`<run>.metrics.json`, `<run>.config.json`), the
trainers' metrics (`<stage>.trainer_metrics.json`), the step timings (`timings.tsv`), `summary.json` (selection
accuracy split by gold label, PAL vs SFT per-response C-score: paired bootstrap 95% interval and sign test) and
`table.md`. Into --blind-out: one gzipped JSON Lines file per blind system with `id`, `response`, `selected_index`
only (the blind outputs are copied, never scored).
"""

import argparse
import gzip
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from pal_core.analysis.significance import paired_bootstrap, selection_split, sign_test  # noqa: E402
from pal_core.data.loaders import iter_json_lines  # noqa: E402
from pal_core.judge.classifier import ConsistencyModel  # noqa: E402

# Evaluation runs in table order: name -> what the row is.
RUNS = {
    "persona_free": "untrained, no persona (history only)",
    "full_persona": "untrained, whole persona in the prompt",
    "sft_full_persona": "SFT baseline (persona in prompt, same turns and budget)",
    "stage1_stg": "stage 1 (mixture SFT), Select-then-Generate",
    "pal_stg": "PAL recipe v1 (stage 1 + plain DPO), Select-then-Generate: collapsed",
    "pal_v2_stg": "**full PAL** (stage 1 + DPO with SFT term), Select-then-Generate",
    "pal_gold_persona": "PAL generator with the gold sentence (oracle)",
    "pal_embedding": "PAL generator, embedding selector (MiniLM cosine, none below 0.35)",
    "pal_nli": "PAL generator, NLI selector (our classifier, none below 0.5)",
    "sft_swapped": "SFT baseline, persona swapped",
    "pal_swapped": "full PAL, persona swapped",
}
TRAINERS = {
    "stage1": "stage 1 mixture SFT",
    "sft_baseline": "SFT baseline",
    "pal": "stage 2 DPO, recipe v1",
    "pal_v2": "stage 2 DPO + SFT term, recipe v2 (shipped)",
}
PAL = "pal_v2_stg"  # the full PAL row compared with SFT
BLIND = ("sft", "stage1_stg", "pal_stg")  # blind "pal_stg" is the shipped PAL (pal_v2), see run.sh step 7


def read_rows(run: Path) -> list[dict]:
    return [row for _, _, row in iter_json_lines(run / "outputs.jsonl")]


def response_c_scores(model: ConsistencyModel, rows: list[dict]) -> list[int]:
    """Each response's C label (max over persona sentences of +1 entail / 0 neutral / -1 contradict), as C-score."""
    pairs = [(s, r["response"]) for r in rows for s in r["persona"]]
    probs = iter(model.predict_proba(pairs))
    out = []
    for r in rows:
        labels = [max(range(3), key=p.__getitem__) - 1 for p in (next(probs) for _ in r["persona"])]
        out.append(max(labels))
    return out


def fmt(value, digits: int = 3) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--campaign", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--blind-out", type=Path, required=True)
    args = parser.parse_args()
    c, out = args.campaign, args.out
    out.mkdir(parents=True, exist_ok=True)

    summary: dict = {"runs": {}, "training": {}}
    for name in TRAINERS:
        metrics = c / name / "metrics.json"
        if metrics.is_file():
            shutil.copyfile(metrics, out / f"{name}.trainer_metrics.json")
            summary["training"][name] = {
                k: v for k, v in json.loads(metrics.read_text()).items() if k != "log_history"
            }
    for extra in ("timings.tsv",):
        if (c / extra).is_file():
            shutil.copyfile(c / extra, out / extra)
    if (c / "consistency" / "metrics.json").is_file():
        shutil.copyfile(c / "consistency" / "metrics.json", out / "consistency.metrics.json")

    rows_of = {}
    for name in RUNS:
        run = c / "runs" / name
        if not (run / "metrics.json").is_file():
            continue
        shutil.copyfile(run / "metrics.json", out / f"{name}.metrics.json")
        shutil.copyfile(run / "config.json", out / f"{name}.config.json")
        rows_of[name] = read_rows(run)
        summary["runs"][name] = {**json.loads((run / "metrics.json").read_text()), **selection_split(rows_of[name])}

    if PAL in rows_of and "sft_full_persona" in rows_of:
        judge = ConsistencyModel.load(str(c / "consistency"))
        pal, sft = response_c_scores(judge, rows_of[PAL]), response_c_scores(judge, rows_of["sft_full_persona"])
        summary["pal_vs_sft_c_score"] = {
            "bootstrap": paired_bootstrap(pal, sft, n_resamples=10_000, seed=0),
            "sign_test": sign_test(pal, sft),
            "consistency_model": str(c / "consistency"),
        }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")

    lines = [
        "| system | BLEU-1 | BLEU-2 | ROUGE-L | Dist-1 | Dist-2 | avg len | C-score | sel. acc | acc gold none | "
        "acc gold sentence | wall s |",
        "|---|" + "---:|" * 11,
    ]
    for name, label in RUNS.items():
        m = summary["runs"].get(name)
        if m is None:
            continue
        c_score = m.get("c_score_swapped", m.get("c_score")) if "swapped" in name else m.get("c_score")
        lines.append(
            f"| {label} | {fmt(m.get('bleu_1'), 2)} | {fmt(m.get('bleu_2'), 2)} | {fmt(m.get('rouge_l'), 2)} | "
            f"{fmt(m.get('distinct_1'))} | {fmt(m.get('distinct_2'))} | {fmt(m.get('avg_length'), 1)} | "
            f"{fmt(c_score)} | {fmt(m.get('selection_accuracy'))} | {fmt(m.get('selection_accuracy_gold_none'))} | "
            f"{fmt(m.get('selection_accuracy_gold_sentence'))} | {fmt(m.get('wall_time_s'), 0)} |"
        )
    (out / "table.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))

    args.blind_out.mkdir(parents=True, exist_ok=True)
    for name in BLIND:
        src = c / "blind" / name / "outputs.jsonl"
        if not (c / "blind" / name / "config.json").is_file():
            continue
        with gzip.GzipFile(args.blind_out / f"{name}.jsonl.gz", "wb", mtime=0) as f:
            for row in read_rows(src.parent):
                record = {"id": row["id"], "response": row["response"], "selected_index": row["selected_index"]}
                f.write((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))
        print(f"blind outputs: {args.blind_out / f'{name}.jsonl.gz'}")


if __name__ == "__main__":
    main()

"""Scoring run directories: the metrics of a run's output rows (text metrics, restatement and self-repetition,
selection accuracy/F1, C-score and grounded-without-restating from the consistency model), rescoring a run from its
outputs.jsonl without generating again, and the Markdown table that compares runs. Running a system and writing the
run is `experiments.py`; the format is formats.runs (read_run / write_run, one OutputRow per outputs.jsonl line;
docs/interfaces.md).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import formats
from formats import OutputRow
from pal_core import data
from pal_core.analysis.metrics import compute_text_metrics, load_metric
from pal_core.errors import ConfigError, DataFormatError, ModelNotFoundError

logger = logging.getLogger(__name__)

METRIC_ORDER = (
    "bleu_1",
    "bleu_2",
    "rouge_l",
    "distinct_1",
    "distinct_2",
    "c_score",
    "grounded_without_restating",
    "restatement_rate",
    "self_repetition",
    "selection_accuracy",
    "selection_f1",
    "avg_length",
    "c_score_swapped",
    "c_score_original",
    "c_score_swap_delta",
    "n",
    "wall_time_s",
)


def load_consistency(path: str | None, *, device: str | None = None, required: bool = False) -> Any:
    """The consistency model at `path` (default dir if None) on `device`; None with a warning when missing and not
    required. A bad or unavailable device is an error either way."""
    from pal_core.judge.classifier import ConsistencyModel

    try:
        return ConsistencyModel.load(path, device=device)
    except ModelNotFoundError as e:
        if required:
            raise
        logger.warning("no consistency model, c_score will be null: %s", e)
        return None


def write_jsonl(rows: list[dict], path: Path) -> None:
    """One JSON object per line, written whole or not at all (data.open_write)."""
    with data.open_write(path) as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def nli_labels(consistency: Any, personas: list[list[str]], responses: list[str]) -> tuple[list[list[int]], list]:
    """The consistency model's label per (persona sentence, response): 1 entail, 0 neutral, -1 contradict (argmax),
    and each response's contradiction probability per sentence."""
    pairs = [(s, r) for persona, r in zip(personas, responses, strict=True) for s in persona]
    probs = iter(consistency.predict_proba(pairs))
    nested = [[next(probs) for _ in persona] for persona in personas]
    labels = [[max(range(3), key=row.__getitem__) - 1 for row in rows] for rows in nested]
    return labels, [[round(row[0], 6) for row in rows] for rows in nested]  # column 0 = contradict


def _c_score(labels: list[list[int]]) -> float:
    return float(load_metric("c_score").compute(predictions=labels)["c_score"])


def grounding_metrics(rows: list[dict], labels: list[list[int]] | None = None) -> dict[str, float]:
    """Restatement rate and self-repetition of the rows' responses against their personas; with the consistency
    model's per-sentence labels also the share grounded without restating (metric modules restatement,
    self_repetition, grounded)."""
    responses, personas = [r["response"] for r in rows], [r["persona"] for r in rows]
    out = {
        "restatement_rate": load_metric("restatement").compute(predictions=responses, references=personas)[
            "restatement_rate"
        ],
        "self_repetition": load_metric("self_repetition").compute(predictions=responses)["self_repetition"],
    }
    if labels is not None:
        grounded = load_metric("grounded").compute(predictions=responses, references=personas, labels=labels)
        out["grounded_without_restating"] = grounded["grounded_without_restating"]
    return out


def compute_run_metrics(rows: list[OutputRow], consistency: Any) -> dict:
    """metrics.json content: text metrics, grounding metrics, selection metrics (gold labels + selections), C-score
    and grounded-without-restating (consistency model given); with a consistency model each row's `contradiction` is
    set."""
    metrics: dict[str, Any] = dict(compute_text_metrics([r.response for r in rows], [r.reference or "" for r in rows]))
    scored = [r for r in rows if r.gold_label is not None and r.selected_index is not None]
    if scored:
        metrics.update(
            load_metric("selection").compute(
                predictions=[r.selected_index for r in scored], references=[r.gold_label for r in scored]
            )
        )
    metrics["c_score"] = None
    swapped = rows[0].original_persona is not None
    labels = None
    if consistency is not None:
        personas, responses = [r.persona for r in rows], [r.response for r in rows]
        labels, contradiction = nli_labels(consistency, personas, responses)
        metrics["c_score"] = _c_score(labels)
        for row, flags in zip(rows, contradiction, strict=True):
            row.contradiction = flags
        if swapped:
            original = _c_score(nli_labels(consistency, [r.original_persona or [] for r in rows], responses)[0])
            metrics["c_score_swapped"] = metrics["c_score"]
            metrics["c_score_original"] = original
            metrics["c_score_swap_delta"] = metrics["c_score"] - original
    elif swapped:
        metrics.update(c_score_swapped=None, c_score_original=None, c_score_swap_delta=None)
    metrics.update(grounding_metrics([{"response": r.response, "persona": r.persona} for r in rows], labels))
    if labels is None:
        metrics["grounded_without_restating"] = None
    metrics["n"] = len(rows)
    return metrics


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 100 else f"{value:.1f}"
    return str(value)


def metrics_table(names: list[str], metric_rows: list[dict]) -> str:
    """A Markdown table: one row per run, the known metric columns that any run has."""
    keys = [k for k in METRIC_ORDER if any(k in m for m in metric_rows)]
    lines = ["| run | " + " | ".join(keys) + " |", "|---|" + "---:|" * len(keys)]
    for name, m in zip(names, metric_rows, strict=True):
        lines.append(f"| {name} | " + " | ".join(_fmt(m.get(k)) for k in keys) + " |")
    return "\n".join(lines)


def rescore_run(run_dir: str | Path, consistency_model: str | None = None, device: str | None = None) -> dict:
    """Recompute a run's metrics from its outputs.jsonl (e.g. after retraining the consistency model), without
    generating again; rewrites metrics.json and the outputs' contradiction probabilities (each file once, atomically),
    keeps the generation's wall time. Returns the new metrics."""
    from pal_core.judge.classifier import default_model_dir  # torch + transformers: imported only when scoring

    run_dir = Path(run_dir)
    run = formats.read_run(run_dir, error=DataFormatError)
    for row in run.rows:
        if row.reference is None:
            raise DataFormatError(
                f"{run_dir / formats.OUTPUTS_FILE}:{row.line}: expected 'reference' as a string, got nothing"
            )
    consistency = load_consistency(consistency_model, device=device, required=True)
    old = run.metrics
    metrics = compute_run_metrics(run.rows, consistency)
    metrics["wall_time_s"] = old.get("wall_time_s")
    metrics["rescored"] = {
        "at": datetime.now(UTC).isoformat(),
        "consistency_model": str(consistency_model or default_model_dir()),
        "c_score_before": old.get("c_score"),
    }
    formats.write_run(run_dir, rows=run.rows, metrics=metrics, error=DataFormatError)
    logger.info("rescored %s: c_score %s -> %.4f", run_dir, old.get("c_score"), metrics["c_score"])
    return metrics


def compare_runs(run_dirs: list[str | Path]) -> str:
    """The Markdown metrics table of several run directories (named `<dir name> (<system>)`)."""
    names, metric_rows = [], []
    for d in map(Path, run_dirs):
        path, config = d / formats.METRICS_FILE, d / formats.CONFIG_FILE
        if not path.is_file():
            raise ConfigError(f"compare_runs: expected a run directory with metrics.json, got {d.resolve()}")
        system = formats.read_json_object(config, error=DataFormatError).get("system") if config.is_file() else "?"
        names.append(f"{d.name} ({system})")
        metric_rows.append(formats.read_json_object(path, error=DataFormatError))
    return metrics_table(names, metric_rows)

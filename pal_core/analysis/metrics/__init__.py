"""Local `evaluate` metric modules (one folder per metric) and the one way to load them: `load_metric(name)`.

Loading never touches the network: `evaluate.load` is given the absolute path of the metric's folder and copies the
script into its modules cache (HF_MODULES_CACHE), never into this package.
"""

from pathlib import Path

import evaluate

from pal_core.errors import PalError, UnknownNameError

METRICS_DIR = Path(__file__).resolve().parent

# What `compute_text_metrics` returns, in order; the run directory's metrics.json uses the same keys.
TEXT_METRIC_KEYS = ("bleu_1", "bleu_2", "rouge_l", "distinct_1", "distinct_2", "avg_length")


def available_metrics() -> list[str]:
    """Names of the metric modules shipped in METRICS_DIR (a folder `<name>/` holding `<name>.py`)."""
    return sorted(p.name for p in METRICS_DIR.iterdir() if (p / f"{p.name}.py").is_file())


def load_metric(name: str) -> evaluate.EvaluationModule:
    """Load the local metric `name` as an `evaluate` module; an unknown name lists the available ones."""
    known = available_metrics()
    if name not in known:
        raise UnknownNameError(f"unknown metric {name!r}; available: {', '.join(known)}")
    return evaluate.load(str(METRICS_DIR / name))


def compute_text_metrics(predictions: list[str], references: list[str]) -> dict[str, float]:
    """BLEU-1/2 and ROUGE-L (0-100), Distinct-1/2 (0-1) and average length (tokens) of responses vs gold, in one call."""
    if len(predictions) != len(references):
        raise PalError(
            f"compute_text_metrics: expected one reference per prediction, "
            f"got {len(predictions)} predictions and {len(references)} references"
        )
    if not predictions:
        raise PalError("compute_text_metrics: expected at least one prediction, got 0")
    results: dict[str, float] = {}
    results.update(load_metric("bleu").compute(predictions=predictions, references=references))
    results.update(load_metric("rouge_l").compute(predictions=predictions, references=references))
    results.update(load_metric("distinct").compute(predictions=predictions))
    results.update(load_metric("avg_length").compute(predictions=predictions))
    return {key: results[key] for key in TEXT_METRIC_KEYS}

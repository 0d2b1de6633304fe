"""Numbers the Inspector and Leaderboard show about a run, taken from the metric modules (pal_core.analysis.metrics)
so each is defined once: selection accuracy, reply length, restatement and self-repetition, and the restated words of
a reply marked up for display (its text HTML-escaped before any markup of ours is added)."""

import html

from pal_core.analysis import grounding
from pal_core.analysis.metrics import load_metric
from pal_core.analysis.metrics.tokens import reply_length
from pal_core.analysis.scoring import grounding_metrics

# Shown for every run in this order; a run scored before these metrics existed gets the two that need no classifier
# computed from its outputs, and "-" for grounded_without_restating (rescore it: `pal rescore`).
GROUNDING_KEYS = ("grounded_without_restating", "restatement_rate", "self_repetition")


def selection_accuracy(rows: list[dict]) -> float | None:
    """Selection accuracy (metric module `selection`) over the rows with a gold label and a selection."""
    scored = [r for r in rows if r.get("gold_label") and r.get("selected_index") is not None]
    if not scored:
        return None
    return load_metric("selection").compute(
        predictions=[r["selected_index"] for r in scored], references=[list(r["gold_label"]) for r in scored]
    )["selection_accuracy"]


def reply_lengths(run: dict) -> dict[str, int]:
    """Each reply's length in the tokens of the avg_length metric, by row id."""
    return {r["id"]: reply_length(r["response"]) for r in run["rows"]}


def metrics_with_grounding(run: dict) -> dict:
    """The run's metrics.json values, with restatement rate and self-repetition computed from its rows when missing."""
    metrics = dict(run["metrics"])
    rows = [r for r in run["rows"] if r.get("persona")]
    if rows and any(metrics.get(k) is None for k in GROUNDING_KEYS[1:]):
        metrics = {**grounding_metrics(rows), **{k: v for k, v in metrics.items() if v is not None}}
    metrics.setdefault("grounded_without_restating", None)
    return metrics


def restatement_markup(reply: str, persona: list[str]) -> tuple[str, str]:
    """(HTML, caption): the reply escaped, with the words it restates from its most-covered persona sentence in
    <mark>; the caption names that sentence's number and coverage."""
    pieces, index, cov = grounding.restated_segments(reply, persona)
    body = "".join(f"<mark>{html.escape(t)}</mark>" if marked else html.escape(t) for t, marked in pieces)
    if index < 0:
        return body, "No persona sentences."
    verdict = "restates it" if cov >= grounding.RESTATEMENT_THRESHOLD else "does not restate it (marked from 80%)"
    return body, f"Most covered persona sentence: #{index + 1}, {cov:.0%} of its content words; the reply {verdict}."

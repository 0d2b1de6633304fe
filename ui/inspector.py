"""The Inspector's run list (the Leaderboard reads runs through it too) and charts: runs that cannot be read are listed with the reason instead of breaking the
page; chart labels are escaped (ui.render.chart_label)."""

import json

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from ui.render import chart_label
from ui.resources import load_run

COLORS = {"selected": "#d62728", "gold": "#2ca02c", "other": "#9e9e9e"}


def read_runs(runs: dict[str, str]) -> tuple[dict[str, dict], dict[str, str]]:
    """label -> run (ui.resources.load_run) for the readable runs, those with selector scores first; and label ->
    why for the others (a run directory deleted or changed on disk since its import)."""
    readable, broken = {}, {}
    for label, path in runs.items():
        try:
            readable[label] = load_run(path)
        except (OSError, ValueError, UnicodeDecodeError, json.JSONDecodeError) as e:
            broken[label] = f"{type(e).__name__}: {e}"
    scored = {k: v for k, v in readable.items() if any(r.get("scores") for r in v["rows"])}
    return {**scored, **{k: v for k, v in readable.items() if k not in scored}}, broken


def score_chart(bars: pd.DataFrame):
    """Horizontal bars of pal_core.analysis.inspection.score_bars, coloured by role."""
    shown = bars.assign(sentence=[chart_label(s) for s in bars["sentence"]])
    return px.bar(shown, x="score", y="sentence", color="role", orientation="h", color_discrete_map=COLORS)


def confusion_chart(table: pd.DataFrame):
    """A categorical heatmap of inspection.confusion: one cell per label, "none" included, whatever the indices."""
    order = list(table.index)
    figure = go.Figure(
        go.Heatmap(
            z=table.to_numpy(),
            x=order,
            y=order,
            text=table.to_numpy(),
            texttemplate="%{text}",
            colorscale="Blues",
            colorbar={"title": "examples"},
        )
    )
    figure.update_xaxes(type="category", title="selected", categoryorder="array", categoryarray=order)
    figure.update_yaxes(
        type="category", title="gold", categoryorder="array", categoryarray=order, autorange="reversed"
    )
    return figure

"""The Leaderboard's charts (system names escaped with ui.render.chart_label: plotly reads some HTML in labels)."""

import pandas as pd
import plotly.express as px

from ui.render import chart_label


def strength_chart(bt: pd.DataFrame):
    """Each system's Bradley-Terry strength with its 95% interval, strongest on top."""
    shown = bt.assign(label=[chart_label(s) for s in bt["system"]])
    figure = px.scatter(
        shown,
        x="strength",
        y="label",
        error_x=bt["ci_high"] - bt["strength"],
        error_x_minus=bt["strength"] - bt["ci_low"],
        labels={"strength": "log-strength (mean 0)", "label": "system"},
    )
    figure.update_yaxes(categoryorder="array", categoryarray=list(shown["label"][::-1]))
    return figure


def win_rate_chart(rates: pd.DataFrame):
    shown = rates.copy()
    shown.index = [chart_label(s) for s in rates.index]
    shown.columns = [chart_label(s) for s in rates.columns]
    return px.imshow(shown, text_auto=".2f", zmin=0, zmax=1, color_continuous_scale="RdBu")


def criteria_chart(criteria: pd.DataFrame, asked: list[str]):
    rated = [c for c in asked if c in criteria.columns]
    bars = criteria.melt(id_vars=["system"], value_vars=rated, var_name="criterion", value_name="mean")
    bars["system"] = [chart_label(s) for s in bars["system"]]
    return px.bar(bars, x="criterion", y="mean", color="system", barmode="group", range_y=[0, 5])


def length_chart(length: pd.DataFrame):
    return px.bar(
        length,
        x="length_gap",
        y="longer_win_rate",
        text="n",
        range_y=[0, 1],
        labels={"length_gap": "length gap (tokens)", "longer_win_rate": "longer reply wins"},
    )

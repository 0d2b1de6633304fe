"""The comparison report drawn: `report_figures` (three plotly figures: consistency, restatement, selection) and
`render_html`, one self-contained HTML file (plotly.js embedded once, no network) a stakeholder reads in two minutes.
Every text from runs or users is escaped (html.escape), in the page and in chart labels."""

import html
import math

import plotly.graph_objects as go

FIGURE_TITLES = {
    "consistency": "Persona consistency (C-score, higher is better)",
    "restatement": "Restatement rate (share of replies copying a persona sentence; lower is better)",
    "selection": "Persona selection accuracy by gold label",
}


def _label(text: object) -> str:
    """A chart label shown as text: plotly renders a subset of HTML in labels, so escape it."""
    return html.escape(str(text))


def _num(value: object, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}" if abs(value) < 100 else f"{value:.1f}"
    return html.escape(str(value))


def report_figures(report: dict) -> dict[str, go.Figure]:
    """{"consistency", "restatement", "selection"} figures of a `build_report` dict."""
    names = [row["system"] for row in report["headline"]]
    labels = [_label(n) for n in names]
    figures = {}
    for key, metric in (("consistency", "c_score"), ("restatement", "restatement_rate")):
        values = [row.get(metric) for row in report["headline"]]
        fig = go.Figure(go.Bar(x=labels, y=[v if v is not None else 0 for v in values], name=metric))
        if all(v is None for v in values):
            fig.add_annotation(
                text="not measured in these runs", showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper"
            )
        figures[key] = fig
    selection = report["selection"]
    fig = go.Figure()
    for part, name in (
        ("selection_accuracy_gold_none", "gold: none"),
        ("selection_accuracy_gold_sentence", "gold: a sentence"),
    ):
        fig.add_bar(x=labels, y=[(selection.get(n) or {}).get(part) or 0 for n in names], name=name)
    fig.update_layout(barmode="group")
    figures["selection"] = fig
    for key, fig in figures.items():
        fig.update_layout(title=FIGURE_TITLES[key], height=340, margin={"t": 50, "b": 40, "l": 40, "r": 20})
    return figures


def _table(report: dict) -> str:
    labels = report["metric_labels"]
    keys = [k for k in labels if any(row.get(k) is not None for row in report["headline"])]
    head = "".join(f"<th>{html.escape(labels[k])}</th>" for k in keys)
    body = "".join(
        "<tr><td>"
        + html.escape(row["system"])
        + "</td>"
        + "".join(f"<td>{_num(row.get(k))}</td>" for k in keys)
        + "</tr>"
        for row in report["headline"]
    )
    return f"<table><tr><th>system</th>{head}</tr>{body}</table>"


def _human(report: dict) -> str:
    if not report["human"]:
        return (
            "<p>No human judgements are included (none recorded, or hidden until the project's judging is done).</p>"
        )
    rows = "".join(
        f"<tr><td>{html.escape(r['system'])}</td><td>{_num(r['strength'], 2)}</td>"
        f"<td>[{_num(r['ci_low'], 2)}, {_num(r['ci_high'], 2)}]</td><td>{_num(r['n'])}</td></tr>"
        for r in report["human"]
    )
    return f"<table><tr><th>system</th><th>strength</th><th>95% interval</th><th>comparisons</th></tr>{rows}</table>"


def _persona(sentences: list[str], used: set[int]) -> str:
    items = "".join(
        f"<li>{'<mark>' if i in used else ''}{html.escape(s)}{'</mark>' if i in used else ''}</li>"
        for i, s in enumerate(sentences)
    )
    return f"<ol class='persona'>{items}</ol>"


def _side(title: str, side: dict) -> str:
    used = side["used_sentence"]
    note = f"used: “{html.escape(used)}”" if used else "used: no persona sentence"
    return f"<div class='side'><h4>{html.escape(title)}</h4><p class='reply'>{html.escape(side['response'])}</p><p class='used'>{note}</p></div>"


def _examples(report: dict) -> str:
    parts = []
    for ex in report["examples"]:
        used = {s["selected_index"] for s in (ex["system"], ex["baseline"]) if isinstance(s["selected_index"], int)}
        history = "".join(f"<li>{html.escape(u)}</li>" for u in ex["history"])
        parts.append(
            f"<section class='example'><h3>{html.escape(ex['label'].capitalize())}: turn {html.escape(ex['id'])} "
            f"(difference {_num(ex['difference'], 2)})</h3>{_persona(ex['persona'], used)}"
            f"<ul class='history'>{history}</ul><div class='sides'>{_side(report['system'], ex['system'])}"
            f"{_side(report['baseline'], ex['baseline'])}</div>"
            f"<p class='gold'>gold reply: {html.escape(ex['reference'])}</p></section>"
        )
    return "".join(parts)


STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
td:first-child,th:first-child{text-align:left}.sides{display:flex;gap:1em}.side{flex:1;border:1px solid #ddd;
padding:.5em}mark{background:#fde68a}.gold{color:#555}.example{margin:1.5em 0}"""


def render_html(report: dict) -> str:
    """The whole report as one HTML document that opens offline."""
    figures = report_figures(report)
    charts = "".join(
        fig.to_html(full_html=False, include_plotlyjs=(i == 0), div_id=f"fig-{key}", config={"displayModeBar": False})
        for i, (key, fig) in enumerate(figures.items())
    )
    boot, sign = report["paired"]["bootstrap"], report["paired"]["sign_test"]
    system, baseline = html.escape(report["system"]), html.escape(report["baseline"])
    summary = (
        f"<p>{system} against {baseline} on {report['n_turns']} shared turns. Per-turn measure: "
        f"{html.escape(report['measure']['description'])}. Mean difference {_num(boot['mean_difference'])} "
        f"(95% paired bootstrap interval [{_num(boot['ci_low'])}, {_num(boot['ci_high'])}]); {system} higher on "
        f"{sign['a_higher']} turns, {baseline} on {sign['b_higher']}, sign test p = {_num(sign['p_value'], 4)}.</p>"
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>PAL Studio report: {system} vs {baseline}</title><style>{STYLE}</style></head><body>"
        f"<h1>{system} vs {baseline}</h1>{summary}<h2>Automatic metrics</h2>{_table(report)}"
        f"<h2>Human leaderboard</h2>{_human(report)}<h2>Three turns side by side</h2>"
        "<p>Chosen by rule: the turn with the largest per-turn difference, the smallest, and the one closest to the "
        "median; the persona sentence each system used is highlighted.</p>"
        f"{_examples(report)}<h2>Figures</h2>{charts}</body></html>"
    )

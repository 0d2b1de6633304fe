"""Report: one system against a baseline as a story a stakeholder reads in two minutes; downloadable as HTML."""

import pandas as pd
import streamlit as st

from pal_core.analysis.report_html import render_html, report_figures
from pal_core.errors import PalError
from ui.access import require_page
from ui.render import md, pick_project, show_history, show_lines
from ui.report import project_report, report_systems

user = require_page(__file__)
st.title("Report")
project = pick_project(user["name"], "report_project")
run_dirs = report_systems(user["name"])
names = sorted(run_dirs)
if len(names) < 2:
    st.info("A report compares two systems with runs: import at least two runs on the Admin page.")
    st.stop()
left, right = st.columns(2)
system = left.selectbox("System", names, index=None, placeholder="Choose the system", key="report_system")
baseline = right.selectbox("Baseline", names, index=None, placeholder="Choose the baseline", key="report_baseline")
if system is None or baseline is None:
    st.stop()
try:
    report, note = project_report(user["name"], project["id"] if project else None, run_dirs, system, baseline)
except PalError as e:
    st.error(md(str(e)))
    st.stop()

boot, sign = report["paired"]["bootstrap"], report["paired"]["sign_test"]
st.caption(
    md(
        f"{system} against {baseline} on {report['n_turns']} shared turns; per-turn measure: "
        f"{report['measure']['description']}. Mean difference {boot['mean_difference']:.3f} (95% paired bootstrap "
        f"interval [{boot['ci_low']:.3f}, {boot['ci_high']:.3f}]); {system} higher on {sign['a_higher']} turns, "
        f"{baseline} on {sign['b_higher']}, sign test p = {sign['p_value']:.4f}."
    )
)
st.header("Automatic metrics")
table = pd.DataFrame(report["headline"]).rename(columns=report["metric_labels"])
st.dataframe(table.dropna(axis=1, how="all"), hide_index=True, key="report_metrics")
st.header("Human leaderboard")
if report["human"]:
    st.dataframe(pd.DataFrame(report["human"]), hide_index=True, key="report_human")
else:
    st.info(md(note or "No human judgements in this project yet."))
st.header("Three turns side by side")
for example in report["examples"]:
    st.subheader(md(f"{example['label'].capitalize()}: turn {example['id']} ({example['difference']:+.2f})"))
    used = {s["selected_index"] for s in (example["system"], example["baseline"])}
    show_lines("Persona (» = a sentence one of the systems used)", [
        ("» " if j in used else "") + s for j, s in enumerate(example["persona"])
    ])  # fmt: skip
    show_history(example["history"])
    for column, (name, side) in zip(
        st.columns(2), ((system, example["system"]), (baseline, example["baseline"])), strict=True
    ):
        column.caption(md(name))
        column.text(side["response"])
        column.caption(md(f"used: {side['used_sentence'] or 'no persona sentence'}"))
st.header("Figures")
for key, fig in report_figures(report).items():
    st.plotly_chart(fig, key=f"report_fig_{key}")
st.download_button(
    "Download as HTML", render_html(report), file_name="report.html", mime="text/html", key="report_download"
)

"""Leaderboard: Bradley-Terry strengths with 95% bootstrap intervals, win rates, criteria, automatic metrics, length."""

import pandas as pd
import plotly.express as px
import streamlit as st

from db import store
from pal_core import analysis
from pal_core.errors import PalError
from ui.auth import has_role, require_role
from ui.render import pick_project
from ui.resources import db_url, load_run, session_factory

user = require_role("viewer")
st.title("Leaderboard")
project = pick_project(user["name"], "leaderboard_project")
if project is None:
    st.stop()
full = has_role("researcher")  # row-level judgements; below that, aggregates only (db.summaries)
with session_factory(db_url()).begin() as session:
    if full:
        rows = store.judgements_frame(session, actor=user["name"], project_id=project["id"])
    else:  # one anonymous (system_a, system_b, preference) row per counted outcome
        counts = store.outcome_counts(session, actor=user["name"], project_id=project["id"])
        rows = [{k: c[k] for k in ("system_a", "system_b", "preference")} for c in counts for _ in range(c["n"])]
        means = store.criterion_means(session, actor=user["name"], project_id=project["id"])
    systems = {s["name"]: s for s in store.list_systems(session, actor=user["name"])}
if not rows:
    st.info("No judgements yet in this project.")
    st.stop()
df = pd.DataFrame(rows)
runs = {name: load_run(s["run_dir"]) for name, s in systems.items() if s["run_dir"]}
lengths = {name: {r["id"]: len(r["response"].split()) for r in run["rows"]} for name, run in runs.items()}
for side in ("a", "b"):
    df[f"len_{side}"] = (
        [lengths.get(s, {}).get(d) for s, d in zip(df[f"system_{side}"], df["dialogue_id"], strict=True)]
        if full
        else None
    )

st.header("Bradley-Terry ranking")
n_boot = st.slider("Bootstrap resamples", 50, 1000, 200, step=50, key="leaderboard_bootstrap")
bt = analysis.bradley_terry(df, n_bootstrap=n_boot)
fig = px.scatter(
    bt,
    x="strength",
    y="system",
    error_x=bt["ci_high"] - bt["strength"],
    error_x_minus=bt["strength"] - bt["ci_low"],
    labels={"strength": "log-strength (mean 0)"},
)
fig.update_yaxes(categoryorder="array", categoryarray=list(bt["system"][::-1]))
st.plotly_chart(fig, key="leaderboard_bt")
st.dataframe(bt, hide_index=True, key="leaderboard_bt_table")

left, right = st.columns(2)
with left:
    st.subheader("Win rate (row beats column)")
    st.plotly_chart(
        px.imshow(analysis.win_rate_matrix(df), text_auto=".2f", zmin=0, zmax=1, color_continuous_scale="RdBu"),
        key="leaderboard_winrate",
    )
with right:
    st.subheader("Per-criterion mean ratings")
    if full:
        criteria = analysis.criterion_scores(df)
    elif means:
        long = pd.DataFrame(means)
        criteria = long.pivot(index="system", columns="criterion", values="mean")
        criteria = criteria.join(long.pivot(index="system", columns="criterion", values="n").add_suffix("_n"))
        criteria = criteria.assign(n=long.groupby("system")["n"].max()).reset_index()
    else:
        criteria = pd.DataFrame({"system": [], "n": []})
    st.dataframe(criteria, hide_index=True, key="leaderboard_criteria")
    st.plotly_chart(
        px.bar(
            criteria.melt(id_vars=["system", "n"], var_name="criterion", value_name="mean"),
            x="criterion",
            y="mean",
            color="system",
            barmode="group",
        ),
        key="leaderboard_criteria_bar",
    )

st.header("Automatic metrics next to human strength")
metrics = pd.DataFrame([{"system": n, **{k: v for k, v in r["metrics"].items() if k != "n"}} for n, r in runs.items()])
if metrics.empty:
    st.info("No metrics.json in the imported runs.")
else:
    table = bt[["system", "strength"]].merge(metrics, on="system", how="left")
    st.dataframe(table, hide_index=True, key="leaderboard_metrics")
    human = dict(zip(bt["system"], bt["strength"], strict=True))
    corr = []
    for metric in [c for c in metrics.columns if c != "system"]:
        auto = {s: v for s, v in zip(metrics["system"], metrics[metric], strict=True) if pd.notna(v)}
        try:
            rho, p = analysis.rank_correlation(human, auto)
        except PalError as e:
            corr.append({"metric": metric, "spearman_rho": None, "p_value": None, "note": str(e)})
            continue
        corr.append({"metric": metric, "spearman_rho": rho, "p_value": p, "note": ""})
    st.caption("Spearman rank correlation between the human strength and each metric")
    st.dataframe(pd.DataFrame(corr), hide_index=True, key="leaderboard_correlation")

st.header("Length bias")
if df[["len_a", "len_b"]].notna().all(axis=None):
    length = analysis.length_vs_win(df.astype({"len_a": int, "len_b": int}))
    st.plotly_chart(
        px.bar(
            length,
            x="length_gap",
            y="longer_win_rate",
            text="n",
            range_y=[0, 1],
            labels={"length_gap": "length gap (words)", "longer_win_rate": "longer reply wins"},
        ),
        key="leaderboard_length",
    )
else:
    st.info("Response lengths need the systems' run directories, which are not available for every judgement.")

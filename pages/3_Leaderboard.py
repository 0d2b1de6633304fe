"""Leaderboard: Bradley-Terry strengths with 95% bootstrap intervals, win rates, criteria, automatic metrics, length."""

import pandas as pd
import plotly.express as px
import streamlit as st

from db import store
from pal_core.analysis import active
from pal_core.analysis import human as analysis
from pal_core.errors import PalError
from ui.auth import has_role, require_role
from ui.render import chart_label, md, pick_project
from ui.resources import load_run, read_only

user = require_role("viewer")
st.title("Leaderboard")
project = pick_project(user["name"], "leaderboard_project")
if project is None:
    st.stop()
full = has_role("researcher")  # row-level judgements; below that, aggregates only (db.summaries)
with read_only() as session:  # no write lock (db.session.read_session)
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
shown = bt.assign(label=[chart_label(s) for s in bt["system"]])  # plotly reads some HTML in labels: escaped
fig = px.scatter(
    shown,
    x="strength",
    y="label",
    error_x=bt["ci_high"] - bt["strength"],
    error_x_minus=bt["strength"] - bt["ci_low"],
    labels={"strength": "log-strength (mean 0)", "label": "system"},
)
fig.update_yaxes(categoryorder="array", categoryarray=list(shown["label"][::-1]))
st.plotly_chart(fig, key="leaderboard_bt")
st.caption(
    md(
        "Each dot is a system's Bradley-Terry strength from the human preferences, the bar its 95% bootstrap "
        f"interval over {len(df)} judgements. " + analysis.describe_ranking(bt)
    )
)
st.dataframe(bt, hide_index=True, key="leaderboard_bt_table")
slots_left = project["n_items"] * project["annotators_per_item"] - len(df)
st.caption(md(active.describe_judgements_needed(df, remaining=slots_left)))

left, right = st.columns(2)
with left:
    st.subheader("Win rate (row beats column)")
    rates = analysis.win_rate_matrix(df)
    rates.index = [chart_label(s) for s in rates.index]
    rates.columns = [chart_label(s) for s in rates.columns]
    st.plotly_chart(
        px.imshow(rates, text_auto=".2f", zmin=0, zmax=1, color_continuous_scale="RdBu"),
        key="leaderboard_winrate",
    )
    st.caption("Share of comparisons the row's system won against the column's (ties count half; blank: never met).")
with right:
    st.subheader("Per-criterion mean ratings")
    asked = [c for c in analysis.CRITERIA if c in project["questions"]]  # only questions the project asks
    if not asked:
        criteria = pd.DataFrame()
    elif full:
        criteria = analysis.criterion_scores(df, asked)
    elif means:
        long = pd.DataFrame(means)
        long = long[long["criterion"].isin(asked)]
        criteria = long.pivot(index="system", columns="criterion", values="mean")
        criteria = criteria.join(long.pivot(index="system", columns="criterion", values="n").add_suffix("_n"))
        criteria = criteria.reset_index()
    else:
        criteria = pd.DataFrame()
    if criteria.empty:
        st.info("This project asks no rating question, or none has been answered yet.")
    else:
        st.dataframe(criteria, hide_index=True, key="leaderboard_criteria")
        rated = [c for c in asked if c in criteria.columns]
        bars = criteria.melt(id_vars=["system"], value_vars=rated, var_name="criterion", value_name="mean")
        bars["system"] = [chart_label(s) for s in bars["system"]]
        st.plotly_chart(
            px.bar(bars, x="criterion", y="mean", color="system", barmode="group", range_y=[0, 5]),
            key="leaderboard_criteria_bar",
        )
        st.caption(
            "Mean of the answered 1-5 ratings per system (`_n`: how many were answered; unanswered ratings are "
            "missing, never counted as a value)."
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
        n = len(set(human) & set(auto))
        try:
            rho, p = analysis.rank_correlation(human, auto)
        except PalError:
            continue  # fewer than 4 systems: a rank correlation would mean nothing
        corr.append({"metric": metric, "n_systems": n, "spearman_rho": rho, "p_value": p})
    if corr:
        st.dataframe(pd.DataFrame(corr), hide_index=True, key="leaderboard_correlation")
        st.caption("Spearman rank correlation between the human strength and each metric, over n_systems systems.")
    else:
        st.caption(
            f"No correlation shown: it needs at least {analysis.MIN_SYSTEMS_FOR_CORRELATION} systems with both a "
            f"human strength and the metric; this project has {len(human)}."
        )

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
    st.caption(
        "How often the longer reply won a decisive (A or B) judgement, by how many words longer it was; n above "
        "each bar. Around 0.5 means length did not sway the annotators."
    )
else:
    st.info("Response lengths need row-level judgements and the systems' run directories (researchers).")

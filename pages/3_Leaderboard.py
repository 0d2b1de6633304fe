"""Leaderboard: Bradley-Terry strengths with 95% bootstrap intervals, win rates, criteria, automatic metrics, length.
Per-system results are hidden from an annotator who still has items to judge in the project (blind annotation)."""

import pandas as pd
import streamlit as st

from db import store
from pal_core.analysis import active, human, leaderboard
from ui import leaderboard as charts
from ui.access import may_see_results, require_page
from ui.auth import has_role
from ui.inspector import read_runs
from ui.render import md, pick_project
from ui.resources import read_only
from ui.run_metrics import metrics_with_grounding

user = require_page(__file__)
st.title("Leaderboard")
project = pick_project(user["name"], "leaderboard_project")
if project is None or not may_see_results(user, project):
    st.stop()
full = has_role("researcher")  # row-level judgements; below that, aggregates only (db.summaries)
asked = [c for c in human.CRITERIA if c in project["questions"]]  # only questions the project asks
with read_only() as session:  # no write lock (db.session.read_session)
    if full:
        rows = store.judgements_frame(session, actor=user["name"], project_id=project["id"])
    else:
        rows = leaderboard.rows_from_counts(
            store.outcome_counts(session, actor=user["name"], project_id=project["id"])
        )
        means = store.criterion_means(session, actor=user["name"], project_id=project["id"])
    systems = store.list_systems(session, actor=user["name"])  # hidden runs are left out
if not rows:
    st.info("No judgements yet in this project.")
    st.stop()
df = pd.DataFrame(rows)
runs, broken = read_runs({s["name"]: s["run_dir"] for s in systems if s["run_dir"]})
if broken:  # a run directory deleted or changed on disk since its import
    st.warning(md(f"Run directories that cannot be read (metrics and lengths left out): {', '.join(broken)}."))

st.header("Bradley-Terry ranking")
n_boot = st.slider("Bootstrap resamples", 50, 1000, 200, step=50, key="leaderboard_bootstrap")
bt = human.bradley_terry(df, n_bootstrap=n_boot)
st.plotly_chart(charts.strength_chart(bt), key="leaderboard_bt")
st.caption(
    md(
        "Each dot is a system's Bradley-Terry strength from the human preferences, the bar its 95% bootstrap "
        f"interval over {len(df)} judgements. " + human.describe_ranking(bt)
    )
)
st.dataframe(bt, hide_index=True, key="leaderboard_bt_table")
slots_left = project["n_items"] * project["annotators_per_item"] - len(df)
st.caption(md(active.describe_judgements_needed(df, remaining=slots_left)))

left, right = st.columns(2)
with left:
    st.subheader("Win rate (row beats column)")
    st.plotly_chart(charts.win_rate_chart(human.win_rate_matrix(df)), key="leaderboard_winrate")
    st.caption("Share of comparisons the row's system won against the column's (ties count half; blank: never met).")
with right:
    st.subheader("Per-criterion mean ratings")
    criteria = pd.DataFrame()
    if asked:
        criteria = human.criterion_scores(df, asked) if full else leaderboard.criteria_from_means(means, asked)
    if criteria.empty:
        st.info("This project asks no rating question, or none has been answered yet.")
    else:
        st.dataframe(criteria, hide_index=True, key="leaderboard_criteria")
        st.plotly_chart(charts.criteria_chart(criteria, asked), key="leaderboard_criteria_bar")
        st.caption(
            "Mean of the answered 1-5 ratings per system (`_n`: how many were answered; unanswered ratings are "
            "missing, never counted as a value)."
        )

st.header("Automatic metrics next to human strength")
table = leaderboard.metrics_table(bt, {n: {**r, "metrics": metrics_with_grounding(r)} for n, r in runs.items()})
if table.empty:
    st.info("No metrics.json in the imported runs.")
else:
    st.dataframe(table, hide_index=True, key="leaderboard_metrics")
    corr = leaderboard.metric_correlations(table)
    if corr.empty:
        st.caption(
            f"No correlation shown: it needs at least {human.MIN_SYSTEMS_FOR_CORRELATION} systems with both a "
            f"human strength and the metric; this project has {len(bt)}."
        )
    else:
        st.dataframe(corr, hide_index=True, key="leaderboard_correlation")
        st.caption(
            "Spearman rank correlation between the human strength and each metric, over n_systems systems; p_value "
            f"is exact (every ordering of the systems) up to {human.EXACT_MAX_SYSTEMS} systems."
        )

st.header("Length bias")
lengths = leaderboard.add_lengths(df, runs) if full and "dialogue_id" in df else None
if lengths is not None and lengths[["len_a", "len_b"]].notna().all(axis=None):
    length = human.length_vs_win(lengths.astype({"len_a": int, "len_b": int}))
    st.plotly_chart(charts.length_chart(length), key="leaderboard_length")
    st.caption(
        "How often the longer reply won a decisive (A or B) judgement, by how many tokens longer it was (the "
        "avg_length metric's tokens); n above each bar. Around 0.5 means length did not sway the annotators."
    )
else:
    st.info("Response lengths need row-level judgements and the systems' run directories (researchers).")

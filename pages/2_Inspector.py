"""Persona selection inspector: one dialogue's selector scores and evidence, then a whole run's confusion and errors."""

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from db import store
from pal_core import data
from pal_core.errors import PalError
from ui.auth import require_role
from ui.render import chart_label, highlight_overlap, md, show_history, show_lines
from ui.resources import find_runs, load_run, read_only
from ui.run_metrics import GROUNDING_KEYS, metrics_with_grounding, restatement_markup, selection_accuracy

user = require_role("viewer")
st.title("Persona selection inspector")
if user["role"] == "annotator":  # the runs show which system wrote which reply: annotation stays blind
    st.info("Annotators do not see this page: it shows which system wrote which reply.")
    st.stop()
with read_only() as session:  # no write lock (db.session.read_session)
    runs = {
        f"{s['name']} (imported)": s["run_dir"]
        for s in store.list_systems(session, actor=user["name"])
        if s["run_dir"]
    }
runs.update({f"{k} (demo)": v for k, v in find_runs(data.demo_runs_dir()).items() if v not in runs.values()})
folder = st.text_input("More runs: a run directory or a folder of them", key="inspector_folder")
if folder:
    try:  # confined to the configured roots (ui.resources.allowed_roots)
        runs.update(find_runs(folder))
    except PalError as e:
        st.error(md(str(e)))
selecting = {k: v for k, v in runs.items() if any(r["scores"] for r in load_run(v)["rows"])}
if not selecting:
    st.info("No run with selector scores found (systems that select write `scores` in outputs.jsonl).")
    st.stop()
run = load_run(selecting[st.selectbox("Run", list(selecting), key="inspector_run")])
rows = [r for r in run["rows"] if r["scores"]]


def label_name(index: int | None) -> str:
    return "none" if index is None or index < 0 else f"#{index + 1}"


st.header("One dialogue")
row = rows[st.selectbox("Example", range(len(rows)), key="inspector_example", format_func=lambda i: rows[i]["id"])]
gold = row["gold_label"] or []
show_lines("Persona", row["persona"])
show_history(row["history"])
names = [f"{i + 1}. {chart_label(s)}" for i, s in enumerate(row["persona"])] + ["none"]
selected = len(row["persona"]) if row["selected_index"] is None or row["selected_index"] < 0 else row["selected_index"]
gold_bars = [len(row["persona"]) if i < 0 else i for i in gold]
if len(row["scores"]) != len(names):  # runs imported before the import checked this
    st.warning(
        f"This example has {len(row['scores'])} scores for {len(names)} options (each persona sentence, then none): "
        "the chart shows the ones that line up."
    )
n = min(len(row["scores"]), len(names))
bars = pd.DataFrame(
    {
        "sentence": names[:n],
        "score": row["scores"][:n],
        "role": ["selected" if i == selected else "gold" if i in gold_bars else "other" for i in range(n)],
    }
)
st.plotly_chart(
    px.bar(
        bars,
        x="score",
        y="sentence",
        color="role",
        orientation="h",
        color_discrete_map={"selected": "#d62728", "gold": "#2ca02c", "other": "#9e9e9e"},
    ),
    key="inspector_scores",
)
st.caption(
    "The selector's score for each persona sentence (and for using none): red is the one it selected, green the "
    "gold label's."
)
c1, c2 = st.columns(2)
c1.metric("Gold label", ", ".join(label_name(i) for i in gold) or "unlabelled")
c2.metric("Selected", label_name(row["selected_index"]))
st.caption("Reply, with the words it shares with the selected sentence highlighted")
st.html(f"<div style='font-family: sans-serif'>{highlight_overlap(row['response'], row['selected_sentence'])}</div>")
restated, note = restatement_markup(row["response"], row["persona"])
st.caption("Reply, with the words it restates from one persona sentence marked")
st.html(f"<div style='font-family: sans-serif'>{restated}</div>")
st.caption(note)
st.caption("Reference reply")
st.text(row["reference"])

st.header("Whole run")
frame = pd.DataFrame(
    {
        "id": [r["id"] for r in rows],
        "gold": [label_name((r["gold_label"] or [None])[0]) for r in rows],
        "selected": [label_name(r["selected_index"]) for r in rows],
        "correct": [r["selected_index"] in (r["gold_label"] or [-1]) for r in rows],
        "response": [r["response"] for r in rows],
    }
)
labelled = frame[[bool(r["gold_label"]) for r in rows]]
accuracy, grounded = selection_accuracy(rows), metrics_with_grounding(run)
st.metric("Selection accuracy", f"{accuracy:.1%}" if accuracy is not None else "n/a")
for column, key in zip(st.columns(len(GROUNDING_KEYS)), GROUNDING_KEYS, strict=True):
    column.metric(key.replace("_", " ").capitalize(), "-" if grounded[key] is None else f"{grounded[key]:.1%}")
order = sorted(set(labelled["gold"]) | set(labelled["selected"]), key=lambda x: (x == "none", len(x), x))
confusion = pd.crosstab(labelled["gold"], labelled["selected"]).reindex(index=order, columns=order, fill_value=0)
figure = go.Figure(
    go.Heatmap(
        z=confusion.to_numpy(),
        x=order,
        y=order,
        text=confusion.to_numpy(),
        texttemplate="%{text}",
        colorscale="Blues",
        colorbar={"title": "examples"},
    )
)
# Labels are categories, not numbers: one cell per label, "none" included, whatever the indices are.
figure.update_xaxes(type="category", title="selected", categoryorder="array", categoryarray=order)
figure.update_yaxes(type="category", title="gold", categoryorder="array", categoryarray=order, autorange="reversed")
st.plotly_chart(figure, key="inspector_confusion")
st.caption(
    f"Rows: the gold persona sentence of each labelled example ({len(labelled)} of {len(frame)}); columns: the one "
    "the selector picked (#k = sentence k, none = no sentence). The diagonal is where they agree."
)
by_label = labelled.groupby("gold")["correct"].agg(["mean", "size"]).rename(columns={"mean": "accuracy", "size": "n"})
st.dataframe(by_label.reindex([o for o in order if o in by_label.index]), key="inspector_by_label")
st.subheader("Where selection was wrong")
st.dataframe(labelled[~labelled["correct"]], hide_index=True, key="inspector_wrong")

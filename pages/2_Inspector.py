"""Persona selection inspector: one dialogue's selector scores and evidence, then a whole run's confusion and errors.
Any run the importer accepts is shown; what its rows lack is named instead of drawn."""

import streamlit as st

from db import store
from pal_core import data
from pal_core.analysis import inspection
from pal_core.errors import PalError
from ui.access import require_page
from ui.inspector import confusion_chart, read_runs, score_chart
from ui.render import highlight_overlap, md, show_history, show_lines
from ui.resources import find_runs, read_only
from ui.run_metrics import GROUNDING_KEYS, metrics_with_grounding, restatement_markup, selection_accuracy

user = require_page(__file__)
st.title("Persona selection inspector")
with read_only() as session:  # no write lock (db.session.read_session)
    systems = store.list_systems(session, actor=user["name"], include_hidden=True)
paths = {f"{s['name']} (imported)": s["run_dir"] for s in systems if s["run_dir"] and not s["hidden"]}
imported = {s["run_dir"] for s in systems}  # a hidden run does not come back as a demo run either
paths.update({f"{k} (demo)": v for k, v in find_runs(data.demo_runs_dir()).items() if v not in imported})
folder = st.text_input("More runs: a run directory or a folder of them", key="inspector_folder")
if folder:
    try:  # confined to the configured roots (ui.resources.allowed_roots)
        paths.update(find_runs(folder))
    except PalError as e:
        st.error(md(str(e)))
runs, broken = read_runs(paths)
for label, why in broken.items():
    st.warning(md(f"{label}: its run directory cannot be read ({why}); an admin can hide it on the Admin page."))
if not runs:
    st.info("No run to inspect yet: an admin imports one on the Admin page.")
    st.stop()
run = runs[st.selectbox("Run", list(runs), key="inspector_run")]
rows = run["rows"]
missing = inspection.missing_fields(rows)
if missing:
    st.warning(md(inspection.describe_missing(missing, len(rows))))

st.header("One dialogue")
row = rows[st.selectbox("Example", range(len(rows)), key="inspector_example", format_func=lambda i: rows[i]["id"])]
show_lines("Persona", row.get("persona") or [])
show_history(row.get("history") or [])
bars, n_options = inspection.score_bars(row)
if bars.empty:
    st.info("No selector scores for this example (the system wrote no scores).")
else:
    if len(row["scores"]) != n_options:  # runs imported before the import checked this
        st.warning(
            f"This example has {len(row['scores'])} scores for {n_options} options (each persona sentence, then "
            "none): the chart shows the ones that line up."
        )
    st.plotly_chart(score_chart(bars), key="inspector_scores")
    st.caption(
        "The selector's score for each persona sentence (and for using none): red is the one it selected, green the "
        "gold label's."
    )
c1, c2 = st.columns(2)
c1.metric("Gold label", ", ".join(inspection.label_name(i) for i in row.get("gold_label") or []) or "unlabelled")
c2.metric("Selected", inspection.label_name(row.get("selected_index")) if "selected_index" in row else "not recorded")
st.caption("Reply, with the words it shares with the selected sentence highlighted")
st.html(
    f"<div style='font-family: sans-serif'>{highlight_overlap(row['response'], row.get('selected_sentence'))}</div>"
)
restated, note = restatement_markup(row["response"], row.get("persona") or [])
st.caption("Reply, with the words it restates from one persona sentence marked")
st.html(f"<div style='font-family: sans-serif'>{restated}</div>")
st.caption(note)
st.caption("Reference reply")
st.text(row.get("reference") or "(none)")

st.header("Whole run")
accuracy, grounded = selection_accuracy(rows), metrics_with_grounding(run)
for column, key in zip(st.columns(len(GROUNDING_KEYS)), GROUNDING_KEYS, strict=True):
    column.metric(key.replace("_", " ").capitalize(), "-" if grounded[key] is None else f"{grounded[key]:.1%}")
frame = inspection.selection_frame(rows)
if frame.empty:
    st.info("No example has both a gold label and a selection: accuracy and confusion need both.")
    st.stop()
st.metric("Selection accuracy", f"{accuracy:.1%}" if accuracy is not None else "n/a")
st.plotly_chart(confusion_chart(inspection.confusion(frame)), key="inspector_confusion")
st.caption(
    f"Rows: the gold persona sentence of each labelled example ({len(frame)} of {len(rows)}); columns: the one "
    "the selector picked (#k = sentence k, none = no sentence). The diagonal is where they agree."
)
st.dataframe(inspection.accuracy_by_label(frame), key="inspector_by_label")
st.subheader("Where selection was wrong")
st.dataframe(frame[~frame["correct"]], hide_index=True, key="inspector_wrong")

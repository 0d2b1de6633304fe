"""Agreement & review: kappa / alpha per question with a reading of each, annotators' gold accuracy and speed, and
the disagreement queue (researchers; admins adjudicate)."""

import pandas as pd
import streamlit as st

from db import store
from pal_core.analysis import agreement
from ui.access import require_page
from ui.auth import has_role
from ui.render import md, pick_project
from ui.resources import read_only
from ui.review import show_item

user = require_page(__file__)  # researchers: the statistics need every annotator's answers per item
st.title("Agreement & review")
project = pick_project(user["name"], "agreement_project")
if project is None:
    st.stop()
with read_only() as session:  # no write lock (db.session.read_session)
    rows = store.judgements_frame(session, actor=user["name"], project_id=project["id"])
    queue = store.list_disagreements(session, actor=user["name"], project_id=project["id"])
if not rows:
    st.info("No judgements yet in this project.")
    st.stop()
df = pd.DataFrame(rows)

st.header("Agreement per question")
by_question = agreement.agreement_by_question(df, project["questions"])
by_question["reading"] = [agreement.read_row(r) for r in by_question.to_dict("records")]
st.dataframe(by_question, hide_index=True, key="agreement_table")
undefined = by_question.loc[by_question["n_units"] == 0, "question"].tolist()
st.caption(
    md(
        "Krippendorff's alpha, Fleiss' kappa and mean pairwise Cohen's kappa per question the project asks, over the "
        "items (for per-reply questions: each reply) answered by two or more annotators; unanswered questions are "
        "missing, and an item with a single answer has no agreement, so it is left out. 1 = perfect agreement, "
        "0 = what chance gives, below 0 = less than chance; the reading column puts each value in words "
        "(Landis and Koch's bands)."
        + (f" Undefined (no item answered twice yet): {', '.join(undefined)}." if undefined else "")
    )
)
for row in by_question.to_dict("records"):
    st.caption(md(f"{row['question']}: {row['reading']}"))
st.header("Annotators")
annotators = agreement.annotator_gold_accuracy(df, min_seconds=project["min_seconds"])
st.dataframe(annotators, hide_index=True, key="agreement_annotators")
fast = annotators.loc[annotators["too_fast"], "user"].tolist()
st.caption(
    md(
        "Accuracy on gold items (known answers) and median seconds per judgement; too_fast: a median under the "
        f"project's {project['min_seconds']:g} s."
        + (f" Check the work of: {', '.join(fast)}." if fast else " Nobody is under it.")
    )
)
if fast:
    st.warning(md(f"Faster than {project['min_seconds']:g} s per judgement (median): {', '.join(fast)}."))

st.header(f"Disagreements to review ({len(queue)})")
if not queue:
    st.success("No open disagreements.")
for item in queue:
    show_item(item, actor=user["name"], can_adjudicate=has_role("admin"))

"""Agreement & review: kappa / alpha per question, annotators' gold accuracy and speed, and the disagreement queue."""

import pandas as pd
import streamlit as st

from db import store
from db.errors import StoreError
from pal_core import analysis
from ui.auth import has_role, require_role
from ui.render import pick_project, show_history, show_lines
from ui.resources import db_url, session_factory

ANSWERS = {"A": "A is better", "B": "B is better", "tie": "Tie", "both_bad": "Both bad"}

user = require_role("viewer")
st.title("Agreement & review")
project = pick_project(user["name"], "agreement_project")
if project is None:
    st.stop()
if not has_role("researcher"):  # the statistics need every annotator's answers per item
    st.info("Agreement statistics and the disagreement queue show each annotator's answers: researchers only.")
    st.stop()
with session_factory(db_url()).begin() as session:
    rows = store.judgements_frame(session, actor=user["name"], project_id=project["id"])
    queue = store.list_disagreements(session, actor=user["name"], project_id=project["id"])
if not rows:
    st.info("No judgements yet in this project.")
    st.stop()
df = pd.DataFrame(rows)

st.header("Agreement per question")
st.caption("Krippendorff's alpha, Fleiss' kappa and mean pairwise Cohen's kappa over items judged by two or more.")
st.dataframe(analysis.agreement_by_question(df), hide_index=True, key="agreement_table")
st.header("Annotators")
st.caption("Accuracy on gold items (known answers) and median seconds per judgement.")
st.dataframe(analysis.annotator_gold_accuracy(df), hide_index=True, key="agreement_annotators")

st.header(f"Disagreements to review ({len(queue)})")
if not queue:
    st.success("No open disagreements.")
can_adjudicate = has_role("admin")
for item in queue:
    with st.expander(f"Item {item['item_id']} · dialogue {item['dialogue_id']}"):
        show_lines("Persona", item["persona"])
        show_history(item["history"])
        col_a, col_b = st.columns(2)
        for column, side in ((col_a, "a"), (col_b, "b")):
            column.caption(f"Response {side.upper()} ({item[f'system_{side}']})")
            column.text(item[f"response_{side}"])
        st.dataframe(pd.DataFrame(item["judgements"]), hide_index=True, key=f"agreement_votes_{item['item_id']}")
        if not can_adjudicate:
            st.caption("An admin resolves this item.")
            continue
        buttons = st.columns(len(ANSWERS))
        for column, (answer, label) in zip(buttons, ANSWERS.items(), strict=True):
            if column.button(label, key=f"agreement_resolve_{item['item_id']}_{answer}"):
                try:
                    with session_factory(db_url()).begin() as session:
                        store.adjudicate(
                            session,
                            actor=user["name"],
                            item_id=item["item_id"],
                            preference=answer,
                            reason="resolved on the Agreement page",
                        )
                except StoreError as e:
                    st.error(str(e))
                    st.stop()
                st.rerun()

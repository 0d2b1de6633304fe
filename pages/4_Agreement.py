"""Agreement & review: kappa / alpha per question, annotators' gold accuracy and speed, and the disagreement queue."""

import pandas as pd
import streamlit as st

from db import store
from db.errors import StoreError
from pal_core.analysis import agreement
from ui.auth import has_role, require_role
from ui.render import md, pick_project, show_history, show_lines, show_long_text
from ui.resources import db_url, read_only, session_factory

ANSWERS = {"A": "A is better", "B": "B is better", "tie": "Tie", "both_bad": "Both bad"}

user = require_role("viewer")
st.title("Agreement & review")
project = pick_project(user["name"], "agreement_project")
if project is None:
    st.stop()
if not has_role("researcher"):  # the statistics need every annotator's answers per item
    st.info("Agreement statistics and the disagreement queue show each annotator's answers: researchers only.")
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
st.dataframe(by_question, hide_index=True, key="agreement_table")
undefined = by_question.loc[by_question["n_units"] == 0, "question"].tolist()
st.caption(
    md(
        "Krippendorff's alpha, Fleiss' kappa and mean pairwise Cohen's kappa per question the project asks, over the "
        "items (for per-reply questions: each reply) answered by two or more annotators; unanswered questions are "
        "missing, and an item with a single answer has no agreement, so it is left out. 1 = perfect agreement, "
        "0 = what chance gives."
        + (f" Undefined (no item answered twice yet): {', '.join(undefined)}." if undefined else "")
    )
)
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
can_adjudicate = has_role("admin")
for item in queue:
    with st.expander(md(f"Item {item['item_id']} · dialogue {item['dialogue_id']}")):
        show_lines("Persona", item["persona"])
        show_history(item["history"])
        col_a, col_b = st.columns(2)
        for column, side in ((col_a, "a"), (col_b, "b")):
            column.caption(md(f"Response {side.upper()} ({item[f'system_{side}']})"))
            show_long_text(item[f"response_{side}"], key=f"agreement_all_{item['item_id']}_{side}", where=column)
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
                    st.error(md(str(e)))
                    st.stop()
                st.rerun()

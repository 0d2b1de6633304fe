"""The Agreement page's disagreement queue: each item with both replies, the annotators' answers, and (admins) one
button per answer that records the adjudication."""

import pandas as pd
import streamlit as st

from db import store
from db.errors import StoreError
from ui.render import md, show_history, show_lines, show_long_text
from ui.resources import db_url, session_factory

ANSWERS = {"A": "A is better", "B": "B is better", "tie": "Tie", "both_bad": "Both bad"}


def adjudicate(actor: str, item_id: int, answer: str) -> None:
    """Record an admin's answer for the item and rerun; a refusal is shown and the page stops."""
    try:
        with session_factory(db_url()).begin() as session:
            store.adjudicate(
                session, actor=actor, item_id=item_id, preference=answer, reason="resolved on the Agreement page"
            )
    except StoreError as e:
        st.error(md(str(e)))
        st.stop()
    st.rerun()


def show_item(item: dict, *, actor: str, can_adjudicate: bool) -> None:
    """One queue item in an expander: persona, history, both replies with their systems, the votes, the buttons."""
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
            return
        for column, (answer, label) in zip(st.columns(len(ANSWERS)), ANSWERS.items(), strict=True):
            if column.button(label, key=f"agreement_resolve_{item['item_id']}_{answer}"):
                adjudicate(actor, item["item_id"], answer)

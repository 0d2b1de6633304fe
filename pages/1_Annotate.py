"""Annotate: compare two replies to the same dialogue. Every answer has a key (listed on the page), nothing starts
answered, and Enter submits only a complete answer. Sides are shown in a per-annotator random order. The state
machine is ui/annotate.py, the answer widgets ui/annotate_view.py, the keyboard ui/keys.py."""

import streamlit as st

from db import store
from ui import annotate, keys
from ui.access import require_page
from ui.annotate_view import choice_buttons, my_judgements, reply_column, show_chosen_style
from ui.render import md, pick_project, show_history, show_lines
from ui.resources import db_url, read_only, session_factory

user = require_page(__file__)
st.title("Annotate: compare")
project = pick_project(user["name"], "annotate_project")
if project is None:
    st.stop()
desk = annotate.Desk(factory=session_factory(db_url()), user=user["name"], project=project)
state = st.session_state
annotate.init_state(state)
keys.install_key_guard()
show_chosen_style()
with st.expander("Guidelines"):  # per project, so outside the panel that redraws on every judgement
    st.text(project["guidelines"] or "No guidelines for this project.")


def item_panel(item: dict) -> None:
    progress = item["progress"]
    st.progress(
        progress["done"] / max(progress["total"], 1),
        text=f"{progress['done']} done, {progress['total'] - progress['done']} left",
    )
    st.caption(f"Item {item['item_id']} · dialogue {md(item['dialogue_id'])}")
    left, right = st.columns(2)
    with left:
        show_lines("Persona of the speaker who replies", item["persona"])
    with right:
        show_lines("Partner's persona", item["partner_persona"])
    show_history(item["history"])
    col_a, col_b = st.columns(2)
    with col_a:
        reply_column(desk, "a", item)
    with col_b:
        reply_column(desk, "b", item)
    st.caption("Which reply is better?")
    labels = [keys.PREFERENCE_LABELS[p] for p in keys.PREFERENCE_KEYS]
    choice_buttons(st, "preference", list(keys.PREFERENCE_KEYS), labels, list(keys.PREFERENCE_KEYS.values()))
    st.text_input("Reason (optional; keys type text here, Enter submits)", key=annotate.reason_key(item["item_id"]))
    choice = state[annotate.ANSWERS].get("preference")
    st.caption(f"Your choice: {keys.PREFERENCE_LABELS[choice] if choice else 'none yet'}")
    action_row = st.container(horizontal=True)
    action_row.button(
        "Submit",
        key=keys.SUBMIT_BUTTON_KEY,
        type="primary",
        shortcut=keys.SUBMIT_KEY,
        on_click=annotate.submit,
        args=(state, desk),
    )
    skip = annotate.skip(desk, item["item_id"])
    action_row.button(
        "Skip", key="annotate_skip", shortcut=keys.SKIP_KEY, on_click=annotate.act, args=(state, desk, skip)
    )
    undo_button(action_row)


def undo_button(where) -> None:
    where.button(
        "Undo last", key="annotate_undo", on_click=annotate.act, args=(state, desk, annotate.undo(desk)),
        shortcut=keys.UNDO_KEY,
    )  # fmt: skip


@st.fragment
def panel() -> None:
    """The item and its answers (redrawn alone on every choice and submit), then the keys it has."""
    annotate.refresh(state, desk)
    item = state[annotate.ITEM]
    with st.container(key=keys.PANEL_KEY):
        message = annotate.pop_message(state)
        if message:
            st.warning(md(message))
        if item is None:
            st.success("Nothing left to annotate in this project. Thank you!")
            undo_button(st)
        else:
            item_panel(item)
    with st.expander("Keys"):  # outside the panel: Enter opens it; per item: only the persona keys it has
        n_persona = len(item["persona"]) if item else 0
        st.dataframe(keys.key_table(project["questions"], n_persona), hide_index=True, key="annotate_keys")


panel()
with st.expander("My judgements in this project (reopen one to edit it)"):
    with read_only() as session:  # no write lock (db.session.read_session)
        mine = store.list_my_judgements(session, actor=user["name"], project_id=project["id"])
    my_judgements(desk, mine)

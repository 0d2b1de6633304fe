"""Annotate: compare two replies to the same dialogue. Keys: 1-4 choose, Enter submits, S skips, U undoes."""

import time

import streamlit as st

from db import store
from db.errors import StoreError
from ui.auth import require_role
from ui.render import pick_project, show_history, show_lines
from ui.resources import db_url, session_factory

CHOICES = [("A", "A is better", "1"), ("B", "B is better", "2"), ("tie", "Tie", "3"), ("both_bad", "Both bad", "4")]
SUGGEST_AT = 0.5  # contradiction probability from which the consistency model's flag is pre-ticked

user = require_role("annotator")
st.title("Annotate: compare")
project = pick_project(user["name"], "annotate_project")
if project is None:
    st.stop()
for name, default in (("annotate_item", None), ("annotate_choice", None), ("annotate_msg", None)):
    st.session_state.setdefault(name, default)
with st.expander("Guidelines"):  # per project, so outside the panel that redraws on every judgement
    st.text(project["guidelines"] or "No guidelines for this project.")


def show(item: dict | None) -> None:
    st.session_state.update(annotate_item=item, annotate_choice=None, annotate_started=time.monotonic())


def act(action) -> None:
    """Run a store call for the current user and, in the same transaction, fetch the item to show next: the one
    whose id the call returns (an undo gives its item back), else the next in the queue. A store error is shown."""
    try:
        with session_factory(db_url()).begin() as session:
            reopen = action(session)
            if reopen is None:
                item = store.next_item(session, actor=user["name"], project_id=project["id"])
            else:
                item = store.get_item(session, actor=user["name"], item_id=reopen)
    except StoreError as e:
        st.session_state.annotate_msg = str(e)
        return
    show(item)


def submit() -> None:
    item, choice, state = st.session_state.annotate_item, st.session_state.annotate_choice, st.session_state
    if choice is None:
        state.annotate_msg = "Choose A, B, tie or both bad first (keys 1-4)."
        return
    i = item["item_id"]

    def record(session) -> None:
        store.record_judgement(
            session,
            actor=user["name"],
            item_id=i,
            preference=choice,
            consistency_a=state[f"annotate_cons_a_{i}"],
            consistency_b=state[f"annotate_cons_b_{i}"],
            persona_used_a=state[f"annotate_used_a_{i}"],
            persona_used_b=state[f"annotate_used_b_{i}"],
            contradiction_a=state[f"annotate_contra_a_{i}"],
            contradiction_b=state[f"annotate_contra_b_{i}"],
            reason=state[f"annotate_reason_{i}"],
            seconds=min(time.monotonic() - state.annotate_started, 86_000.0),
        )

    act(record)


def undo(session) -> int | None:
    """Withdraw the last judgement; its item is shown again (None: nothing to undo, show the next item)."""
    undone = store.undo_last(session, actor=user["name"], project_id=project["id"])
    if undone is None:
        st.session_state.annotate_msg = "Nothing to undo in this project."
        return None
    return undone["item_id"]


def response_column(side: str, item: dict) -> None:
    i, persona = item["item_id"], item["persona"]
    box = st.container(border=True)  # label and reply in one plain-text element: fewer elements to draw per item
    box.text(f"Response {side.upper()}\n\n{item[f'response_{side}']}")
    st.segmented_control(
        "Persona consistency (1 = contradicts, 5 = fully consistent)",
        [1, 2, 3, 4, 5],
        default=3,
        required=True,
        key=f"annotate_cons_{side}_{i}",
    )
    st.selectbox(
        "Persona sentence it uses",
        [-1, *range(len(persona))],
        key=f"annotate_used_{side}_{i}",
        format_func=lambda k: "none" if k < 0 else f"{k + 1}. {persona[k]}",
    )
    scores = item[f"contradiction_{side}"] or []
    top = max(scores, default=0.0)
    st.checkbox(
        f"Contradicts the persona (suggestion from the consistency model: {top:.2f}; please confirm)"
        if scores
        else "Contradicts the persona",
        value=top >= SUGGEST_AT,
        key=f"annotate_contra_{side}_{i}",
    )


@st.fragment
def panel() -> None:
    shown = st.session_state.annotate_item
    if shown is None or shown["project_id"] != project["id"]:
        act(lambda session: None)  # nothing to write: fetch the next item
    item = st.session_state.annotate_item
    if st.session_state.annotate_msg:
        st.warning(st.session_state.annotate_msg)
        st.session_state.annotate_msg = None
    if item is None:
        st.success("Nothing left to annotate in this project. Thank you!")
        st.button("Undo last", key="annotate_undo", on_click=act, args=(undo,), shortcut="U")
        return
    progress = item["progress"]
    st.progress(
        progress["done"] / max(progress["total"], 1),
        text=f"{progress['done']} done, {progress['total'] - progress['done']} left",
    )
    st.caption(f"Item {item['item_id']} · dialogue {item['dialogue_id']}")
    left, right = st.columns(2)
    with left:
        show_lines("Persona of the speaker who replies", item["persona"])
    with right:
        show_lines("Partner's persona", item["partner_persona"])
    show_history(item["history"])
    col_a, col_b = st.columns(2)
    with col_a:
        response_column("a", item)
    with col_b:
        response_column("b", item)
    # Horizontal containers instead of columns: fewer elements to send and draw on each item.
    choose_row = st.container(horizontal=True)
    for value, label, key in CHOICES:
        chosen = st.session_state.annotate_choice == value
        choose_row.button(
            label,
            key=f"annotate_choose_{value}",
            shortcut=key,
            width="stretch",
            type="primary" if chosen else "secondary",
            on_click=st.session_state.update,
            kwargs={"annotate_choice": value},
        )
    st.text_input("Reason (optional)", key=f"annotate_reason_{item['item_id']}")
    choice = st.session_state.annotate_choice
    st.caption(f"Your choice: {dict((v, lbl) for v, lbl, _ in CHOICES)[choice] if choice else 'none yet'}")
    action_row = st.container(horizontal=True)
    action_row.button("Submit", key="annotate_submit", type="primary", shortcut="Enter", on_click=submit)
    action_row.button(
        "Skip",
        key="annotate_skip",
        shortcut="S",
        on_click=act,
        args=(lambda s: store.skip(s, actor=user["name"], item_id=item["item_id"]),),
    )
    action_row.button("Undo last", key="annotate_undo", on_click=act, args=(undo,), shortcut="U")


panel()

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


def load_next() -> None:
    with session_factory(db_url()).begin() as session:
        item = store.next_item(session, actor=user["name"], project_id=project["id"])
    st.session_state.update(annotate_item=item, annotate_choice=None, annotate_started=time.monotonic())


def act(action) -> None:
    """Run a store call for the current user; show a store error instead of failing."""
    try:
        with session_factory(db_url()).begin() as session:
            action(session)
    except StoreError as e:
        st.session_state.annotate_msg = str(e)
        return
    load_next()


def submit() -> None:
    item, choice, state = st.session_state.annotate_item, st.session_state.annotate_choice, st.session_state
    if choice is None:
        state.annotate_msg = "Choose A, B, tie or both bad first (keys 1-4)."
        return
    i = item["item_id"]
    act(
        lambda s: store.record_judgement(
            s,
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
    )


def response_column(side: str, item: dict) -> None:
    i, persona = item["item_id"], item["persona"]
    st.subheader(f"Response {side.upper()}")
    with st.container(border=True):
        st.text(item[f"response_{side}"])
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
    if st.session_state.annotate_item is None or st.session_state.annotate_item["project_id"] != project["id"]:
        load_next()
    item = st.session_state.annotate_item
    if st.session_state.annotate_msg:
        st.warning(st.session_state.annotate_msg)
        st.session_state.annotate_msg = None
    undo = lambda: act(lambda s: store.undo_last(s, actor=user["name"], project_id=project["id"]))  # noqa: E731
    if item is None:
        st.success("Nothing left to annotate in this project. Thank you!")
        st.button("Undo last", key="annotate_undo", on_click=undo, shortcut="U")
        return
    progress = item["progress"]
    st.progress(
        progress["done"] / max(progress["total"], 1),
        text=f"{progress['done']} done, {progress['total'] - progress['done']} left",
    )
    with st.expander("Guidelines"):
        st.text(item["guidelines"] or "No guidelines for this project.")
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
    buttons = st.columns(4)
    for column, (value, label, key) in zip(buttons, CHOICES, strict=True):
        chosen = st.session_state.annotate_choice == value
        column.button(
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
    submit_col, skip_col, undo_col = st.columns(3)
    submit_col.button("Submit", key="annotate_submit", type="primary", shortcut="Enter", on_click=submit)
    skip_col.button(
        "Skip",
        key="annotate_skip",
        shortcut="S",
        on_click=lambda: act(lambda s: store.skip(s, actor=user["name"], item_id=item["item_id"])),
    )
    undo_col.button("Undo last", key="annotate_undo", on_click=undo, shortcut="U")


panel()

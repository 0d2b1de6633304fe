"""Annotate: compare two replies to the same dialogue. Every answer has a key (listed on the page), nothing starts
answered, and Enter submits only a complete answer. Sides are shown in a per-annotator random order."""

import time

import pandas as pd
import streamlit as st

from db import store
from db.errors import StoreError
from ui import keys
from ui.auth import require_role
from ui.render import md, pick_project, show_history, show_lines, show_long_text
from ui.resources import db_url, read_only, session_factory

SUGGEST_AT = 0.5  # the consistency model's contradiction probability from which it suggests "contradicts"
FIELDS = {name for pair in store.ANSWER_FIELDS.values() for name in pair}

user = require_role("annotator")
st.title("Annotate: compare")
project = pick_project(user["name"], "annotate_project")
if project is None:
    st.stop()
asked, required = project["questions"], project["required_questions"]
for name, default in (("annotate_item", None), ("annotate_answers", {}), ("annotate_msg", None)):
    st.session_state.setdefault(name, default)
keys.install_key_guard()
with st.expander("Guidelines"):  # per project, so outside the panel that redraws on every judgement
    st.text(project["guidelines"] or "No guidelines for this project.")


def show(item: dict | None, answers: dict | None = None) -> None:
    """Show `item` (a store view) in this annotator's side order, with `answers` (item sides) or none given."""
    if item is not None:
        swapped = store.sides_swapped(item["item_id"], user["name"])
        item = {**store.swap_sides(item, swapped), "swapped": swapped}
        answers = answers or {}
        st.session_state[f"annotate_reason_{item['item_id']}"] = answers.get("reason", "")
        given = {k: v for k, v in answers.items() if (k == "preference" or k in FIELDS) and v is not None}
        answers = store.swap_sides(given, swapped)
    st.session_state.update(annotate_item=item, annotate_answers=answers or {}, annotate_started=time.monotonic())


def act(action) -> None:
    """Run a store call for the current user and, in the same transaction, fetch the item to show next: the one
    (item_id, previous answers) the call returns, else the next in the queue. A store error is shown."""
    try:
        with session_factory(db_url()).begin() as session:
            reopen = action(session)
            if reopen is None:
                item, answers = store.next_item(session, actor=user["name"], project_id=project["id"]), None
            else:
                item = store.get_item(session, actor=user["name"], item_id=reopen[0])
                answers = reopen[1]
    except StoreError as e:
        st.session_state.annotate_msg = str(e)
        return
    show(item, answers)


def answer(name: str, value) -> None:
    st.session_state.annotate_answers = {**st.session_state.annotate_answers, name: value}


def missing_answers(given: dict) -> list[str]:
    """The required per-reply questions still unanswered, in words."""
    return [
        f"{question.replace('_', ' ')} of reply {side.upper()}"
        for question in required
        for side in ("a", "b")
        if given.get(f"{question}_{side}") is None
    ]


def submit() -> None:
    item, given, state = st.session_state.annotate_item, st.session_state.annotate_answers, st.session_state
    missing = missing_answers(given)
    if not given.get("preference"):
        state.annotate_msg = "Choose A, B, tie or both bad first (keys 1-4)." + (
            f" Also required: {', '.join(missing)}." if missing else ""
        )
        return
    if missing:
        state.annotate_msg = f"Not submitted: answer {', '.join(missing)} first."
        return
    answers = store.swap_sides(given, item["swapped"])  # shown sides -> the item's sides
    seconds = min(time.monotonic() - state.annotate_started, 86_000.0)
    reason = state.get(f"annotate_reason_{item['item_id']}", "")

    def record(session) -> None:
        store.record_judgement(
            session, actor=user["name"], item_id=item["item_id"], reason=reason, seconds=seconds, **answers
        )

    act(record)


def undo(session) -> tuple[int, dict] | None:
    """Withdraw the last judgement; its item comes back with its answers (None: nothing to undo)."""
    undone = store.undo_last(session, actor=user["name"], project_id=project["id"])
    if undone is None:
        st.session_state.annotate_msg = "Nothing to undo in this project."
        return None
    row = store.get_own_judgement(session, actor=user["name"], judgement_id=undone["judgement_id"])
    return undone["item_id"], row


def reopen(judgement_id: int):
    """A store action reopening one of the user's own judgements with its answers (submitting supersedes it)."""

    def action(session) -> tuple[int, dict]:
        row = store.get_own_judgement(session, actor=user["name"], judgement_id=judgement_id)
        return row["item_id"], row

    return action


def choice_buttons(where, name: str, options: list, labels: list[str], shortcuts: list[str]) -> None:
    """One button per option (primary = chosen); clicking or its key sets the answer, nothing is chosen at first."""
    row = where.container(horizontal=True)
    chosen = st.session_state.annotate_answers.get(name)
    for value, label, shortcut in zip(options, labels, shortcuts, strict=True):
        row.button(
            label,
            key=f"annotate_{name}_{value}",
            shortcut=shortcut,
            type="primary" if chosen == value and chosen is not None else "secondary",
            on_click=answer,
            args=(name, value),
        )


def reply_column(side: str, item: dict) -> None:
    persona, text = item["persona"], item[f"response_{side}"]
    box = st.container(border=True)
    box.caption(f"Response {side.upper()}")
    show_long_text(text, key=f"annotate_all_{side}_{item['item_id']}", where=box)
    for question in asked:
        st.caption(keys.QUESTION_TITLES[question])
        if question in keys.RATING_KEYS:
            shortcuts = [keys.side_key(k, side) for k in keys.RATING_KEYS[question]]
            choice_buttons(st, f"{question}_{side}", [1, 2, 3, 4, 5], ["1", "2", "3", "4", "5"], shortcuts)
        elif question == "persona_used":
            options = [-1, *range(len(persona))]
            labels = ["none"] + [str(k + 1) for k in range(len(persona))]
            shortcuts = [keys.side_key(k, side) for k in keys.PERSONA_KEYS]
            shortcuts += [None] * (len(options) - len(shortcuts))  # beyond 5 sentences: mouse only
            choice_buttons(st, f"persona_used_{side}", options, labels, shortcuts[: len(options)])
        elif question == "contradiction":
            shortcuts = [keys.side_key(keys.CONTRADICTION_KEYS[v], side) for v in (True, False)]
            choice_buttons(st, f"contradiction_{side}", [True, False], ["contradicts", "does not"], shortcuts)
            scores = item[f"contradiction_{side}"] or []
            if scores:
                top = max(scores)
                suggestion = top >= SUGGEST_AT
                st.caption(
                    f"The consistency model suggests: {'contradicts' if suggestion else 'does not contradict'} "
                    f"(contradiction probability {top:.2f}). Not applied until you accept it."
                )
                st.button(
                    "Accept the suggestion",
                    key=f"annotate_accept_{side}",
                    shortcut=keys.side_key(keys.ACCEPT_KEY, side),
                    on_click=answer,
                    args=(f"contradiction_{side}", suggestion),
                )


@st.fragment
def panel() -> None:
    shown = st.session_state.annotate_item
    if shown is None or shown["project_id"] != project["id"]:
        act(lambda session: None)  # nothing to write: fetch the next item
    item = st.session_state.annotate_item
    if st.session_state.annotate_msg:
        st.warning(md(st.session_state.annotate_msg))
        st.session_state.annotate_msg = None
    if item is None:
        st.success("Nothing left to annotate in this project. Thank you!")
        st.button("Undo last", key="annotate_undo", on_click=act, args=(undo,), shortcut=keys.UNDO_KEY)
        return
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
        reply_column("a", item)
    with col_b:
        reply_column("b", item)
    st.caption("Which reply is better?")
    labels = [keys.PREFERENCE_LABELS[p] for p in keys.PREFERENCE_KEYS]
    choice_buttons(st, "preference", list(keys.PREFERENCE_KEYS), labels, list(keys.PREFERENCE_KEYS.values()))
    st.text_input("Reason (optional; keys type text here)", key=f"annotate_reason_{item['item_id']}")
    choice = st.session_state.annotate_answers.get("preference")
    st.caption(f"Your choice: {keys.PREFERENCE_LABELS[choice] if choice else 'none yet'}")
    action_row = st.container(horizontal=True)
    action_row.button("Submit", key="annotate_submit", type="primary", shortcut=keys.SUBMIT_KEY, on_click=submit)
    action_row.button(
        "Skip",
        key="annotate_skip",
        shortcut=keys.SKIP_KEY,
        on_click=act,
        args=(lambda s: store.skip(s, actor=user["name"], item_id=item["item_id"]),),
    )
    action_row.button("Undo last", key="annotate_undo", on_click=act, args=(undo,), shortcut=keys.UNDO_KEY)


with st.container(key=keys.PANEL_KEY):
    panel()
with st.expander("Keys"):
    st.dataframe(pd.DataFrame(keys.key_table(asked, 5)), hide_index=True, key="annotate_keys")
with st.expander("My judgements in this project (reopen one to edit it)"):
    with read_only() as session:  # no write lock (db.session.read_session)
        mine = store.list_my_judgements(session, actor=user["name"], project_id=project["id"])
    if not mine:
        st.text("None yet.")
    for row in mine[:50]:
        shown_pref = store.swap_sides(row, store.sides_swapped(row["item_id"], user["name"]))["preference"]
        cols = st.columns([4, 1], vertical_alignment="center")
        cols[0].text(f"Item {row['item_id']} · dialogue {row['dialogue_id']} · {keys.PREFERENCE_LABELS[shown_pref]}")
        cols[1].button(
            "Edit", key=f"annotate_edit_{row['judgement_id']}", on_click=act, args=(reopen(row["judgement_id"]),)
        )

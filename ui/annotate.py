"""The Annotate page's state machine, without Streamlit: plain functions over a session-state mapping (the page passes
`st.session_state`, tests a dict) and a `Desk` (store, user, project).

State keys: ITEM (the item shown, in this annotator's side order, with "swapped"), ANSWERS (what was chosen, shown
sides, nothing at first), MESSAGE (a note for the next draw), STARTED (when the item was shown) and one reason text
per item (reason_key). Every store call runs in one transaction with the fetch of the item to show next, retried
while SQLite reports another writer's lock (db.session.run_in_transaction, as the Admin page's writes are)."""

import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from db import store
from db.errors import StoreError
from db.session import run_in_transaction

ITEM, ANSWERS, MESSAGE, STARTED = "annotate_item", "annotate_answers", "annotate_msg", "annotate_started"
FIELDS = frozenset(name for pair in store.ANSWER_FIELDS.values() for name in pair)  # per-reply answers
MAX_SECONDS = 86_000.0  # time on an item is capped (a tab left open overnight)
NOTHING_TO_UNDO = "Nothing to undo in this project."

State = MutableMapping
# A store call: None (then show the next item), (item_id, answers) to reopen, or a message (then the next item).
Action = Callable[[Session], "tuple[int, dict] | str | None"]


@dataclass(frozen=True)
class Desk:
    """Where an annotator works: the store's session factory, the signed-in user's name, the project (a
    store.get_project view)."""

    factory: sessionmaker
    user: str
    project: dict


def reason_key(item_id: int) -> str:
    return f"annotate_reason_{item_id}"


def init_state(state: State) -> None:
    for name, default in ((ITEM, None), (ANSWERS, {}), (MESSAGE, None)):
        state.setdefault(name, default)


def show(state: State, desk: Desk, item: dict | None, answers: dict | None = None) -> None:
    """Show `item` (a store view) in this annotator's side order, with `answers` (item sides) or none given."""
    if item is not None:
        swapped = store.sides_swapped(item["item_id"], desk.user)
        item = {**store.swap_sides(item, swapped), "swapped": swapped}
        answers = answers or {}
        state[reason_key(item["item_id"])] = answers.get("reason", "")
        given = {k: v for k, v in answers.items() if (k == "preference" or k in FIELDS) and v is not None}
        answers = store.swap_sides(given, swapped)
    state.update({ITEM: item, ANSWERS: answers or {}, STARTED: time.monotonic()})


def act(state: State, desk: Desk, action: Action) -> None:
    """Run `action` and, in the same transaction, fetch the item to show next (the one it reopens, else the next
    in the queue); retried while the database is locked. A store error becomes the message; nothing changes."""

    def step(session: Session) -> tuple[dict | None, dict | None, str | None]:
        outcome = action(session)
        if isinstance(outcome, tuple):
            return store.get_item(session, actor=desk.user, item_id=outcome[0]), outcome[1], None
        return store.next_item(session, actor=desk.user, project_id=desk.project["id"]), None, outcome

    try:
        item, answers, message = run_in_transaction(desk.factory, step)
    except StoreError as e:
        state[MESSAGE] = str(e)
        return
    show(state, desk, item, answers)
    if message:
        state[MESSAGE] = message


def refresh(state: State, desk: Desk) -> None:
    """Fetch the next item when none is shown yet or the shown one belongs to another project."""
    shown = state.get(ITEM)
    if shown is None or shown["project_id"] != desk.project["id"]:
        act(state, desk, lambda session: None)


def pop_message(state: State) -> str | None:
    message, state[MESSAGE] = state.get(MESSAGE), None
    return message


def answer(state: State, name: str, value) -> None:
    state[ANSWERS] = {**state[ANSWERS], name: value}


def is_chosen(state: State, name: str, value) -> bool:
    chosen = state[ANSWERS].get(name)
    return chosen is not None and chosen == value


def missing_answers(required: list[str], given: dict) -> list[str]:
    """The required per-reply questions still unanswered, in words."""
    return [
        f"{question.replace('_', ' ')} of reply {side.upper()}"
        for question in required
        for side in ("a", "b")
        if given.get(f"{question}_{side}") is None
    ]


def refusal(required: list[str], given: dict) -> str | None:
    """Why `given` cannot be submitted yet (no preference, or required answers missing), or None."""
    missing = missing_answers(required, given)
    if not given.get("preference"):
        also = f" Also required: {', '.join(missing)}." if missing else ""
        return "Choose A, B, tie or both bad first (keys 1-4)." + also
    if missing:
        return f"Not submitted: answer {', '.join(missing)} first."
    return None


def submit(state: State, desk: Desk) -> None:
    """Store the answers given (mapped back to the item's sides) with the reason and time, then show the next item;
    an incomplete answer is refused with a message and nothing is stored."""
    item, given = state[ITEM], state[ANSWERS]
    message = refusal(desk.project["required_questions"], given)
    if message:
        state[MESSAGE] = message
        return
    answers = store.swap_sides(given, item["swapped"])  # shown sides -> the item's sides
    seconds = min(time.monotonic() - state[STARTED], MAX_SECONDS)
    reason = state.get(reason_key(item["item_id"]), "")

    def record(session: Session) -> None:
        store.record_judgement(
            session, actor=desk.user, item_id=item["item_id"], reason=reason, seconds=seconds, **answers
        )

    act(state, desk, record)


def undo(desk: Desk) -> Action:
    """Withdraw the last judgement; its item comes back with its answers."""

    def action(session: Session) -> tuple[int, dict] | str:
        undone = store.undo_last(session, actor=desk.user, project_id=desk.project["id"])
        if undone is None:
            return NOTHING_TO_UNDO
        row = store.get_own_judgement(session, actor=desk.user, judgement_id=undone["judgement_id"])
        return undone["item_id"], row

    return action


def reopen(desk: Desk, judgement_id: int) -> Action:
    """Reopen one of the user's own judgements with its answers (submitting supersedes it)."""

    def action(session: Session) -> tuple[int, dict]:
        row = store.get_own_judgement(session, actor=desk.user, judgement_id=judgement_id)
        return row["item_id"], row

    return action


def skip(desk: Desk, item_id: int) -> Action:
    return lambda session: store.skip(session, actor=desk.user, item_id=item_id)


def shown_preference(row: dict, user: str) -> str:
    """A stored judgement's preference as `user` saw the sides."""
    return store.swap_sides(row, store.sides_swapped(row["item_id"], user))["preference"]

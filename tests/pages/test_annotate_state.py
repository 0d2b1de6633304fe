"""ui/annotate.py and ui/keys.py without Streamlit: the Annotate page's state machine over a plain dict (what is
shown, chosen, refused, stored, undone and reopened) and the keys table."""

import re

import pytest

from db import store
from db.session import make_session_factory
from ui import annotate, keys


@pytest.fixture
def desk(db_url) -> annotate.Desk:
    factory = make_session_factory(db_url)
    with factory.begin() as session:
        project = store.get_project(session, actor="admin", project_id=1)
    yield annotate.Desk(factory=factory, user="alice", project=project)
    factory.kw["bind"].dispose()


def _mine(desk: annotate.Desk) -> list[dict]:
    with desk.factory.begin() as session:
        return store.list_my_judgements(session, actor=desk.user, project_id=desk.project["id"])


def _opened(desk: annotate.Desk) -> dict:
    state: dict = {}
    annotate.init_state(state)
    annotate.refresh(state, desk)
    return state


def test_refresh_shows_an_item_with_nothing_chosen(desk):
    state = _opened(desk)
    item = state[annotate.ITEM]
    assert item["project_id"] == 1 and item["swapped"] == store.sides_swapped(item["item_id"], "alice")
    assert state[annotate.ANSWERS] == {} and state[annotate.reason_key(item["item_id"])] == ""
    assert annotate.pop_message(state) is None


def test_submit_refuses_an_incomplete_answer_and_stores_nothing(desk):
    state, before = _opened(desk), _mine(desk)
    annotate.answer(state, "consistency_a", 3)
    annotate.submit(state, desk)
    assert annotate.pop_message(state) == "Choose A, B, tie or both bad first (keys 1-4)."
    assert _mine(desk) == before
    assert annotate.refusal(["consistency"], {"preference": "A", "consistency_a": 3}) == (
        "Not submitted: answer consistency of reply B first."
    )
    assert annotate.refusal(["consistency"], {}) == (
        "Choose A, B, tie or both bad first (keys 1-4). Also required: consistency of reply A, consistency of reply B."
    )
    assert annotate.refusal([], {"preference": "tie"}) is None


def test_submit_stores_the_shown_answers_on_the_items_sides_then_undo_reopens_them(desk):
    state, before = _opened(desk), _mine(desk)
    item_id = state[annotate.ITEM]["item_id"]
    annotate.answer(state, "preference", "A")
    annotate.answer(state, "consistency_b", 5)
    assert annotate.is_chosen(state, "preference", "A") and not annotate.is_chosen(state, "preference", "B")
    state[annotate.reason_key(item_id)] = "tea"
    annotate.submit(state, desk)
    assert annotate.pop_message(state) is None and state[annotate.ITEM]["item_id"] != item_id
    (new,) = [r for r in _mine(desk) if r not in before]
    swapped = store.sides_swapped(item_id, "alice")
    expected = store.swap_sides({"preference": "A", "consistency_b": 5, "consistency_a": None}, swapped)
    assert {k: new[k] for k in expected} == expected and new["reason"] == "tea"
    assert annotate.shown_preference(new, "alice") == "A"
    annotate.act(state, desk, annotate.undo(desk))
    assert _mine(desk) == before
    assert state[annotate.ITEM]["item_id"] == item_id
    assert state[annotate.ANSWERS] == {"preference": "A", "consistency_b": 5}  # as shown, nothing added
    assert state[annotate.reason_key(item_id)] == "tea"


def test_undo_with_nothing_to_undo_says_so_and_a_store_error_changes_nothing(desk):
    with desk.factory.begin() as session:
        store.create_user(session, actor="admin", name="erin", password="erin-password", role="annotator")
    erin = annotate.Desk(factory=desk.factory, user="erin", project=desk.project)
    state = _opened(erin)
    annotate.act(state, erin, annotate.undo(erin))
    assert annotate.pop_message(state) == annotate.NOTHING_TO_UNDO and state[annotate.ITEM] is not None
    shown = dict(state)
    alice_judgement = _mine(desk)[0]["judgement_id"]
    annotate.act(state, erin, annotate.reopen(erin, alice_judgement))  # not erin's: refused by the store
    message = annotate.pop_message(state)
    assert message and str(alice_judgement) in message
    assert {k: v for k, v in state.items() if k != annotate.MESSAGE} == {
        k: v for k, v in shown.items() if k != annotate.MESSAGE
    }


@pytest.mark.parametrize(
    ("n_persona", "answer", "listed"),
    [
        (0, "persona sentence: none", "Z"),
        (1, "persona sentence: none, 1", "Z X"),
        (4, "persona sentence: none, 1-4", "Z X V B N"),
        (7, "persona sentence: none, 1-5", "Z X V B N M"),  # keys for five; the rest by mouse
    ],
)
def test_key_table_lists_persona_keys_only_for_sentences_the_item_has(n_persona, answer, listed):
    rows = keys.key_table(["persona_used", "consistency"], n_persona)
    (row,) = [r for r in rows if r["answer"].startswith("persona sentence")]
    assert row == {"answer": answer, "reply A": listed, "reply B": f"Shift + {listed}"}
    assert [r["answer"] for r in rows][:4] == ["A is better", "B is better", "Tie", "Both bad"]


def test_key_guard_survives_streamlits_html_sanitizer():
    """DOMPurify (st.html) removes a script whose text has "<" before a letter, "/" or "!": the guard then never
    runs and Enter submits from anywhere (issue 22.16)."""
    text = keys.guard_script_text()
    assert "addEventListener" in text and re.search(r"<[/\w!]", text) is None

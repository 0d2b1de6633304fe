"""Annotate page: nothing starts answered, submitting stores exactly the answers given (unanswered = NULL, mapped
from the shown sides to the item's), required questions are enforced, undo and edit reopen answers, text stays
literal."""

import logging
import sqlite3

from pagekit import XSS, add_xss_project, page, plain

from db import session as db_session
from db import store
from db.session import make_session_factory

ANSWERS = ("consistency_a", "consistency_b", "persona_used_a", "persona_used_b", "contradiction_a", "contradiction_b")


def alice_rows(url: str, project_id: int = 1) -> list[dict]:
    with make_session_factory(url).begin() as session:
        return [
            r for r in store.judgements_frame(session, actor="admin", project_id=project_id) if r["user"] == "alice"
        ]


def shown_item(at) -> int:
    return int(next(c.value for c in at.caption if c.value.startswith("Item ")).split()[1])


def test_nothing_starts_answered(db_url):
    at = page("pages/1_Annotate.py", "alice", "annotator").run()
    assert not at.exception
    assert at.session_state["annotate_answers"] == {}
    assert "Your choice: none yet" in [c.value for c in at.caption]
    answer_buttons = [
        b for b in at.button if b.key and b.key.startswith("annotate_") and b.key[9:].startswith(ANSWERS)
    ]
    assert len(answer_buttons) >= 2 * (5 + 3 + 2)  # ratings 1-5, persona none/1/2+, contradiction yes/no per side
    assert all(b.proto.type != "primary" for b in answer_buttons)  # nothing highlighted as chosen


def test_submit_stores_the_given_answers_and_null_for_the_rest(db_url):
    before = alice_rows(db_url)
    at = page("pages/1_Annotate.py", "alice", "annotator").run()
    item_id = shown_item(at)
    at.button(key="annotate_consistency_b_5").click().run()  # reply B as shown
    at.button(key="annotate_persona_used_a_1").click().run()  # reply A as shown uses persona sentence 2
    at.text_input(key=f"annotate_reason_{item_id}").input("B names the hobby")
    at.button(key="annotate_preference_B").click().run()
    assert "Your choice: B is better" in [c.value for c in at.caption]
    at.button(key="annotate_submit").click().run()
    assert not at.exception
    (new,) = [r for r in alice_rows(db_url) if r not in before]
    swapped = store.sides_swapped(item_id, "alice")
    expected = store.swap_sides(
        {"preference": "B", "consistency_b": 5, "persona_used_a": 1, "consistency_a": None, "persona_used_b": None},
        swapped,
    )
    assert {k: new[k] for k in expected} == expected
    assert (new["contradiction_a"], new["contradiction_b"], new["reason"]) == (None, None, "B names the hobby")
    assert shown_item(at) != item_id  # the next item is shown


def test_submit_without_choice_warns_and_records_nothing(db_url):
    before = alice_rows(db_url)
    at = page("pages/1_Annotate.py", "alice", "annotator").run()
    at.button(key="annotate_submit").click().run()
    assert plain(at.warning[0].value) == "Choose A, B, tie or both bad first (keys 1-4)."
    assert alice_rows(db_url) == before


def test_required_questions_are_named_when_missing(db_url):
    with make_session_factory(db_url).begin() as session:
        project = store.create_project(
            session,
            actor="admin",
            name="Strict",
            system_names=store.get_project(session, actor="admin", project_id=1)["systems"][:2],
            required_questions=["consistency"],
        )
    at = page("pages/1_Annotate.py", "alice", "annotator").run()
    at.selectbox(key="annotate_project").set_value(project["id"]).run()
    at.button(key="annotate_preference_A").click().run()
    at.button(key="annotate_consistency_a_4").click().run()
    at.button(key="annotate_submit").click().run()
    assert plain(at.warning[0].value) == "Not submitted: answer consistency of reply B first."
    assert alice_rows(db_url, project["id"]) == []
    at.button(key="annotate_consistency_b_2").click().run()
    at.button(key="annotate_submit").click().run()
    assert len(alice_rows(db_url, project["id"])) == 1


def test_undo_reopens_the_item_with_its_answers(db_url):
    before = alice_rows(db_url)
    at = page("pages/1_Annotate.py", "alice", "annotator").run()
    judged = shown_item(at)
    at.button(key="annotate_preference_tie").click().run()
    at.button(key="annotate_consistency_a_2").click().run()
    at.button(key="annotate_submit").click().run()
    assert len(alice_rows(db_url)) == len(before) + 1 and shown_item(at) != judged
    at.button(key="annotate_undo").click().run()
    assert alice_rows(db_url) == before
    assert shown_item(at) == judged  # the undone item is back, with the answers given before
    assert at.session_state["annotate_answers"] == {"preference": "tie", "consistency_a": 2}
    assert "Your choice: Tie" in [c.value for c in at.caption]


def test_edit_reopens_an_own_judgement_and_supersedes_it(db_url):
    at = page("pages/1_Annotate.py", "alice", "annotator").run()
    mine = [r["judgement_id"] for r in alice_rows(db_url)]
    at.button(key=f"annotate_edit_{mine[0]}").click().run()
    item_id = shown_item(at)
    assert item_id == alice_rows(db_url)[0]["item_id"]
    at.button(key="annotate_preference_both_bad").click().run()
    at.button(key="annotate_submit").click().run()
    rows = {r["item_id"]: r for r in alice_rows(db_url)}
    assert rows[item_id]["preference"] == "both_bad" and len(rows) == len(mine)  # superseded, not added


def test_undo_with_nothing_to_undo_says_so(db_url):
    with make_session_factory(db_url).begin() as session:
        store.create_user(session, actor="admin", name="carol", password="carol-password", role="annotator")
    at = page("pages/1_Annotate.py", "carol", "annotator").run()
    at.button(key="annotate_undo").click().run()
    assert plain(at.warning[0].value) == "Nothing to undo in this project."
    assert not at.exception


def test_viewer_cannot_annotate(db_url):
    at = page("pages/1_Annotate.py", "viewer", "viewer").run()
    assert "needs the 'annotator' role" in plain(at.error[0].value)


def test_dialogue_text_renders_literally_and_suggestions_wait_for_acceptance(db_url, tmp_path):
    project_id = add_xss_project(db_url, tmp_path)
    at = page("pages/1_Annotate.py", "alice", "annotator").run()
    at.selectbox(key="annotate_project").set_value(project_id).run()
    texts = [t.value for t in at.text]
    assert XSS in texts  # the reply, by st.text (no HTML, no Markdown)
    assert "1. I like **tea**.\n2. <b>I have dogs</b>" in texts  # one plain-text block per persona
    assert "Partner: hello <i>there</i>" in texts
    assert not any("onerror" in m.value for m in at.markdown)
    suggestions = [c.value for c in at.caption if "suggests" in c.value]
    assert any("contradicts (contradiction probability 0.90)" in s for s in suggestions)
    assert at.session_state["annotate_answers"] == {}  # shown, never applied
    at.button(key="annotate_accept_a").click().run()
    at.button(key="annotate_preference_A").click().run()
    at.button(key="annotate_submit").click().run()
    (row,) = alice_rows(db_url, project_id)
    swapped = store.sides_swapped(row["item_id"], "alice")
    assert (
        row["contradiction_b" if swapped else "contradiction_a"],
        row["contradiction_b" if not swapped else "contradiction_a"],
    ) == (True, None)


def test_long_replies_are_collapsed(db_url, tmp_path):
    project_id = add_xss_project(db_url, tmp_path, long_reply="word " * 4000)
    at = page("pages/1_Annotate.py", "alice", "annotator").run()
    at.selectbox(key="annotate_project").set_value(project_id).run()
    (more,) = [e for e in at.expander if e.label.startswith("Show all")]
    assert more.label == "Show all (20,000 characters)"
    assert more.text[0].value.strip() == ("word " * 4000).strip()  # all of it, inside the collapsed expander
    outside = [t.value for t in at.text if t.value.startswith("word") and t not in more.text]
    assert [len(v) for v in outside] == [1202]  # the first 1200 characters and " …" above the answer buttons


class _ReleaseOnRetry(logging.Handler):
    """Releases the held write lock when db.session logs its first "retrying": the page's first try has then
    failed on the lock, and only a retry can store the judgement."""

    def __init__(self, holder: sqlite3.Connection) -> None:
        super().__init__()
        self.holder, self.released = holder, 0

    def emit(self, record: logging.LogRecord) -> None:
        if "retrying" in record.getMessage() and not self.released:
            self.holder.execute("ROLLBACK")
            self.released += 1


def test_submit_retries_while_another_writer_holds_the_database(db_url, monkeypatch):
    """Issue 22.14: a submit that meets SQLite's write lock is retried (as the Admin page's writes are), so the
    judgement is stored and the next item shown instead of a "database is locked" message."""
    monkeypatch.setattr(db_session, "SQLITE_BUSY_TIMEOUT_MS", 50)  # the page's connections give up after 50 ms
    before = alice_rows(db_url)
    at = page("pages/1_Annotate.py", "alice", "annotator").run()
    item_id = shown_item(at)
    at.button(key="annotate_preference_A").click().run()
    holder = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # another annotator's write in progress
    release = _ReleaseOnRetry(holder)
    logging.getLogger("db.session").addHandler(release)
    try:
        at.button(key="annotate_submit").click().run()
    finally:
        logging.getLogger("db.session").removeHandler(release)
        if holder.in_transaction:
            holder.execute("ROLLBACK")
        holder.close()
    assert not at.exception and [plain(w.value) for w in at.warning] == []
    assert release.released == 1  # the first try met the lock
    (new,) = [r for r in alice_rows(db_url) if r not in before]
    assert new["item_id"] == item_id
    assert shown_item(at) != item_id


def test_keys_table_lists_only_the_persona_sentences_the_item_has(db_url, tmp_path):
    """Issue 22.18: a 2-sentence persona gets keys for none, 1 and 2 (Z X V), not for five sentences."""
    project_id = add_xss_project(db_url, tmp_path)
    at = page("pages/1_Annotate.py", "alice", "annotator").run()
    at.selectbox(key="annotate_project").set_value(project_id).run()
    table = at.dataframe[0].value
    (row,) = table[table["answer"].str.startswith("persona sentence")].to_dict("records")
    assert (row["answer"], row["reply A"], row["reply B"]) == ("persona sentence: none, 1-2", "Z X V", "Shift + Z X V")

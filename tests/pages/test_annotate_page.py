"""Annotate page: submitting stores a judgement with the widgets' answers, undo withdraws it, text stays literal."""

from pagekit import XSS, add_xss_project, page

from db import store
from db.session import make_session_factory


def alice_rows(url: str, project_id: int = 1) -> list[dict]:
    with make_session_factory(url).begin() as session:
        return [
            r for r in store.judgements_frame(session, actor="admin", project_id=project_id) if r["user"] == "alice"
        ]


def test_submit_records_the_judgement(db_url):
    before = alice_rows(db_url)
    at = page("pages/1_Annotate.py", "alice", "annotator").run()
    item_caption = at.caption[0].value
    item_id = int(item_caption.split()[1])
    at.segmented_control(key=f"annotate_cons_b_{item_id}").set_value(5)
    at.selectbox(key=f"annotate_used_a_{item_id}").set_value(2)
    at.text_input(key=f"annotate_reason_{item_id}").input("B names the hobby")
    at.button(key="annotate_choose_B").click().run()
    assert "Your choice: B is better" in [c.value for c in at.caption]
    at.button(key="annotate_submit").click().run()
    assert not at.exception
    new = [r for r in alice_rows(db_url) if r not in before]
    assert [
        (r["item_id"], r["preference"], r["consistency_a"], r["consistency_b"], r["persona_used_a"], r["reason"])
        for r in new
    ] == [(item_id, "B", 3, 5, 2, "B names the hobby")]
    assert at.caption[0].value != item_caption  # the next item is shown


def test_submit_without_choice_warns_and_records_nothing(db_url):
    before = alice_rows(db_url)
    at = page("pages/1_Annotate.py", "alice", "annotator").run()
    at.button(key="annotate_submit").click().run()
    assert at.warning[0].value == "Choose A, B, tie or both bad first (keys 1-4)."
    assert alice_rows(db_url) == before


def test_undo_withdraws_the_last_judgement_and_reopens_its_item(db_url):
    before = alice_rows(db_url)
    at = page("pages/1_Annotate.py", "alice", "annotator").run()
    judged = at.caption[0].value
    at.button(key="annotate_choose_tie").click().run()
    at.button(key="annotate_submit").click().run()
    assert len(alice_rows(db_url)) == len(before) + 1 and at.caption[0].value != judged
    at.button(key="annotate_undo").click().run()
    assert alice_rows(db_url) == before
    assert at.caption[0].value == judged  # the undone item is shown again, ready to be judged anew
    assert "Your choice: none yet" in [c.value for c in at.caption]


def test_undo_with_nothing_to_undo_says_so(db_url):
    with make_session_factory(db_url).begin() as session:
        store.create_user(session, actor="admin", name="carol", password="carol-password", role="annotator")
    at = page("pages/1_Annotate.py", "carol", "annotator").run()
    at.button(key="annotate_undo").click().run()
    assert at.warning[0].value == "Nothing to undo in this project."
    assert not at.exception


def test_viewer_cannot_annotate(db_url):
    at = page("pages/1_Annotate.py", "viewer", "viewer").run()
    assert "needs the 'annotator' role" in at.error[0].value


def test_dialogue_text_renders_literally(db_url, tmp_path):
    project_id = add_xss_project(db_url, tmp_path)
    at = page("pages/1_Annotate.py", "alice", "annotator").run()
    at.selectbox(key="annotate_project").set_value(project_id).run()
    texts = [t.value for t in at.text]
    # shown by st.text (no HTML, no Markdown), after its side's label
    assert f"Response A\n\n{XSS}" in texts or f"Response B\n\n{XSS}" in texts
    assert "1. I like **tea**.\n2. <b>I have dogs</b>" in texts  # one plain-text block per persona
    assert "Partner: hello <i>there</i>" in texts
    assert not any("onerror" in m.value for m in at.markdown)
    checkbox_labels = [c.label for c in at.checkbox]  # the stored contradiction scores become suggestions
    assert any("suggestion from the consistency model: 0.90" in label for label in checkbox_labels)
    assert all(c.value for c in at.checkbox)

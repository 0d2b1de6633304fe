"""Playground page: load a (tiny) model, chat once, see the reply and its persona selection."""

from pagekit import page


def test_chat_turn_shows_selection(db_url, tiny_lm, monkeypatch):
    monkeypatch.setenv("PAL_ROOTS", str(tiny_lm.parent))  # a typed model path must lie under an allowed root
    at = page("pages/6_Playground.py", "alice", "annotator").run()
    assert not at.exception
    at.text_input(key="playground_model").input(str(tiny_lm))
    at.button(key="playground_load").click().run()
    at.chat_input(key="playground_input").set_value("hi how are you").run()
    assert not at.exception
    messages = at.session_state["playground_messages"]
    assert [m["role"] for m in messages] == ["user", "assistant"]
    reply = messages[1]
    assert len(reply["scores"]) == len(reply["persona"]) + 1  # one per sentence, then "none"
    assert reply["sentence"] in (None, *reply["persona"])
    assert "Selected persona sentence:" in [c.value for c in at.caption]

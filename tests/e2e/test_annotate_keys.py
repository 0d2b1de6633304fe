"""Browser tests of the Annotate page's keyboard outside the item (issue 22.16) and of how a chosen answer looks
(issue 22.18): Enter submits only when focus is in the item's panel or on nothing; every other control keeps its own
Enter (expanders open, Edit reopens, links navigate) and Enter in the Reason box submits with the reason typed.
A chosen answer is styled apart from the red Submit button, with a mark that does not rely on colour."""

import re

import pytest
from browserkit import IDLE, _open_annotate, playwright_api

from db import store
from db.session import make_session_factory

pytestmark = pytest.mark.e2e
expect = playwright_api.expect


def _rows(db_url: str, user: str) -> list[tuple[int, str, str]]:
    """(item, preference, reason) of the user's current judgements in the demo project."""
    with make_session_factory(db_url).begin() as session:
        rows = store.judgements_frame(session, actor="admin", project_id=1)
    return [(r["item_id"], r["preference"], r["reason"]) for r in rows if r["user"] == user]


def _settled(page) -> None:
    page.wait_for_timeout(300)  # a key's rerun request reaches the server within this; then wait for it to end
    page.wait_for_function(IDLE)


def _is_open(expander) -> bool:
    return expander.locator("details").evaluate("el => el.open")


def test_enter_outside_the_panel_keeps_each_controls_own_action(server, browser):
    base, db_url = server
    page, caption, shown = _open_annotate(browser, base, "alice")
    before = _rows(db_url, "alice")
    page.keyboard.press("1")  # a complete answer: an Enter that submits would store it
    expect(page.get_by_text("Your choice: A is better")).to_be_visible()
    _settled(page)
    for title in ("Guidelines", "Keys", "Change password"):
        expander = page.get_by_test_id("stExpander").filter(has_text=title).first
        assert not _is_open(expander)
        expander.locator("summary").focus()
        page.keyboard.press("Enter")
        _settled(page)
        assert _is_open(expander), f"Enter on the {title} expander did not open it"
        assert _rows(db_url, "alice") == before, f"Enter on the {title} expander submitted the item"
        expect(caption).to_have_text(shown)
    # Enter in the Reason box submits, with the reason typed
    item_id = int(shown.split()[1])
    reason = page.get_by_role("textbox", name=re.compile("^Reason"))
    reason.click()
    reason.type("A names the tea")
    page.keyboard.press("Enter")
    expect(caption).not_to_have_text(shown)
    _settled(page)
    chosen = "B" if store.sides_swapped(item_id, "alice") else "A"
    assert _rows(db_url, "alice") == before + [(item_id, chosen, "A names the tea")]
    before, shown = _rows(db_url, "alice"), caption.inner_text()
    # Enter on an Edit button of "My judgements" reopens that judgement, submitting nothing
    mine = page.get_by_test_id("stExpander").filter(has_text="My judgements").first
    mine.locator("summary").click()
    label = mine.get_by_text(re.compile(r"^Item \d+ ")).first.inner_text()
    mine.get_by_role("button", name="Edit").first.focus()
    page.keyboard.press("Enter")
    expect(caption).to_have_text(re.compile(rf"^Item {label.split()[1]} "))
    _settled(page)
    assert _rows(db_url, "alice") == before
    # Enter on a sidebar link follows it
    page.get_by_test_id("stSidebar").get_by_role("link", name="Playground").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Playground")).to_be_visible()
    assert _rows(db_url, "alice") == before
    page.close()


def _contrast(fg: str, bg: str) -> float:
    """WCAG contrast ratio of two CSS rgb()/rgba() colours."""

    def luminance(color: str) -> float:
        channels = [int(c) / 255 for c in re.findall(r"\d+", color)[:3]]
        lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    high, low = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (high + 0.05) / (low + 0.05)


STYLE = "el => { const s = getComputedStyle(el); return [s.backgroundColor, s.color]; }"
MARK = "el => getComputedStyle(el, '::before').content"


def test_a_chosen_answer_is_not_styled_like_submit(server, browser):
    base, _ = server
    page, _, _ = _open_annotate(browser, base, "bob")
    chosen = page.locator(".st-key-annotate_preference_B button")
    submit = page.locator(".st-key-annotate_submit button")
    unchosen_style = chosen.evaluate(STYLE)
    page.keyboard.press("2")
    expect(page.get_by_text("Your choice: B is better")).to_be_visible()
    _settled(page)
    chosen_bg, chosen_fg = chosen.evaluate(STYLE)
    submit_bg, _ = submit.evaluate(STYLE)
    assert chosen_bg != submit_bg  # not the Submit button's red
    assert [chosen_bg, chosen_fg] != unchosen_style  # and not what an unchosen answer looks like
    assert _contrast(chosen_fg, chosen_bg) >= 4.5  # WCAG AA for its label
    assert "✓" in chosen.evaluate(MARK)  # a mark besides colour
    assert "✓" not in submit.evaluate(MARK)
    assert "✓" not in page.locator(".st-key-annotate_preference_A button").evaluate(MARK)
    page.close()

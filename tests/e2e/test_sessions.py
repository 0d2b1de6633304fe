"""A sign-in survives a reload, a direct URL and a new tab (an HttpOnly cookie, ui/session_cookie.py), and ends
everywhere at logout, revocation or expiry (issue 22 item 3)."""

import time
from datetime import timedelta

import pytest
from browserkit import TIMEOUT_MS, playwright_api
from sqlalchemy import update

from db import store
from db.models import LoginSession, utc_now
from db.session import make_session_factory
from ui.session_cookie import COOKIE

pytestmark = pytest.mark.e2e
expect = playwright_api.expect


def _new_tab(context, url: str):
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    return page


def _sign_in(context, base: str, name: str, password: str):
    """Log in through the form in a new tab of `context`; returns the tab once the cookie is set."""
    page = _new_tab(context, base)
    page.get_by_role("textbox", name="Username").fill(name)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text(f"Signed in as {name} (").first).to_be_visible()
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while not [c for c in context.cookies() if c["name"] == COOKIE] and time.monotonic() < deadline:
        page.wait_for_timeout(100)  # the page's script claims the cookie after the login rerun
    return page


def _signed_in(page, name: str) -> None:
    expect(page.get_by_text(f"Signed in as {name} (").first).to_be_visible()


def _signed_out(page) -> None:
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    expect(page.get_by_text("Signed in as ")).to_have_count(0)


def test_reload_direct_url_and_new_tab_stay_signed_in_until_logout(server, browser):
    base, _ = server
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    first = _sign_in(context, base, "alice", "annotator-demo")
    (cookie,) = [c for c in context.cookies() if c["name"] == COOKIE]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert cookie["expires"] > time.time() + 3600  # lasts as the session does (8 h), not the tab
    assert COOKIE not in first.evaluate("document.cookie")  # page scripts cannot read it
    first.reload()
    _signed_in(first, "alice")
    second = _new_tab(context, f"{base}/Annotate")  # a direct URL in another tab
    expect(second.get_by_role("button", name="Undo last")).to_be_visible()
    first.get_by_role("button", name="Log out").click()
    _signed_out(first)
    first.reload()
    _signed_out(first)
    second.reload()
    expect(second.get_by_text("Please log in to see this page.")).to_be_visible()
    _signed_out(second)
    context.close()


def test_revoked_or_expired_session_does_not_sign_in_on_reload(server, browser):
    base, db_url = server
    factory = make_session_factory(db_url)
    context = browser.new_context()
    page = _sign_in(context, base, "bob", "annotator-demo")
    with factory.begin() as s:  # the session's expiry passes
        s.execute(update(LoginSession).values(expires_at=utc_now() - timedelta(seconds=1)))
    page.reload()
    _signed_out(page)
    expect(page.get_by_text("Your session has ended")).to_be_visible()
    page.close()
    page = _sign_in(context, base, "bob", "annotator-demo")
    with factory.begin() as s:  # an admin changes bob's role: his sessions are revoked
        store.set_role(s, actor="admin", name="bob", role="viewer")
    try:
        page.reload()
        _signed_out(page)
        fresh = browser.new_context()  # a stolen cookie of the revoked session signs in nowhere
        fresh.add_cookies([c for c in context.cookies() if c["name"] == COOKIE])
        _signed_out(_new_tab(fresh, base))
        fresh.close()
    finally:
        with factory.begin() as s:
            store.set_role(s, actor="admin", name="bob", role="annotator")
        factory.kw["bind"].dispose()
        context.close()

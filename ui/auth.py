"""Login against the store and the role check every page calls first.

The browser holds only a login token: in the tab's Streamlit session (`st.session_state[AUTH_KEY]`) and, when the app
is served by serve.py, in an HttpOnly cookie that a reload, a direct URL or another tab sends again
(ui/session_cookie.py). The session itself lives in the store (db.logins: expiry, revocation at logout, role or
password change). Every page load resolves the token again and reads the role from the users table, so a demoted or
disabled user loses access on their next click, and an ended session signs in nowhere.
"""

import streamlit as st

from db import store
from db.errors import AuthenticationError, StoreError
from db.users import ROLE_RANK  # the one role table
from ui import session_cookie
from ui.nav import sidebar_nav
from ui.render import md
from ui.resources import db_url, read_only, session_factory

AUTH_KEY = "auth_token"
NOTICE_KEY = "auth_notice"  # why the user was signed out, shown above the next login form
SIGNED_OUT_KEY = "auth_signed_out"  # signed out in this tab: the cookie it was opened with no longer counts
COOKIE_KEY = "auth_cookie"  # "remember" (token, expiry) after a login, "forget" after a logout: done on the next run
ENDED = "Your session has ended (it expired, you logged out, or your role or password changed): please log in again."


def current_user() -> dict | None:
    """The signed-in user {"name", "role", "expires_at"} as the store has them now, or None. The tab's token comes
    first; a tab that has none yet (a reload, a direct URL, a new tab) takes the session cookie's."""
    token = st.session_state.get(AUTH_KEY)
    from_cookie = token is None and not st.session_state.get(SIGNED_OUT_KEY)
    if from_cookie:
        token = session_cookie.cookie_token()
    if token is None:
        return None
    with read_only() as session:
        user = store.resolve_session(session, token=token)
    if user is None:
        st.session_state.pop(AUTH_KEY, None)
        st.session_state[SIGNED_OUT_KEY] = True
        st.session_state[NOTICE_KEY] = ENDED
        if from_cookie:  # the cookie holds this ended session (another tab may have put a newer one there)
            st.session_state[COOKIE_KEY] = "forget"
    else:
        st.session_state[AUTH_KEY] = token
    return user


def _source() -> str:
    """The client's address as the login throttle counts it ("local" for this machine: Streamlit gives None)."""
    ip = st.context.ip_address
    return ip if isinstance(ip, str) and ip else "local"


def _signed_out(notice: str | None = None) -> None:
    """End the sign-in in this tab and have the browser drop the cookie; rerun."""
    st.session_state.pop(AUTH_KEY, None)
    st.session_state[SIGNED_OUT_KEY] = True
    st.session_state[COOKIE_KEY] = "forget"
    if notice:
        st.session_state[NOTICE_KEY] = notice
    st.rerun()


def _sync_cookie() -> None:
    """Carry out a pending cookie change (the page's script, hidden in the sidebar)."""
    pending = st.session_state.pop(COOKIE_KEY, None)
    with st.sidebar:
        if pending == "forget":
            session_cookie.forget()
        elif pending is not None:
            session_cookie.remember(*pending)


def has_role(role: str) -> bool:
    user = current_user()
    return user is not None and ROLE_RANK[user["role"]] >= ROLE_RANK[role]


def login_form() -> None:
    """Username + password form; on success keeps the new session's token and reruns. A refused login is
    recorded by the store (failed attempts lock out this address for a growing time: db.throttle)."""
    _sync_cookie()
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice:
        st.info(notice)
    with st.form("login_form"):
        name = st.text_input("Username", key="login_name")
        password = st.text_input("Password", type="password", key="login_password")
        submitted = st.form_submit_button("Log in")
    if not submitted:
        return
    started, error = None, ""
    try:
        with session_factory(db_url()).begin() as session:
            try:
                source = _source()
                started = store.login(session, name=name.strip(), password=password, source=source)
            except AuthenticationError as e:  # caught inside the transaction: the failed attempt is committed
                error = str(e)
    except StoreError as e:
        st.error(str(e))
        return
    if started is None:
        st.error(error)
        return
    st.session_state[AUTH_KEY] = started["token"]
    st.session_state.pop(SIGNED_OUT_KEY, None)
    st.session_state[COOKIE_KEY] = (started["token"], started["expires_at"])
    st.rerun()


def _change_password(user: dict) -> None:
    with st.sidebar.expander("Change password"), st.form("auth_password_form", clear_on_submit=True):
        old = st.text_input("Current password", type="password", key="auth_old_password")
        new = st.text_input("New password (8+ characters)", type="password", key="auth_new_password")
        again = st.text_input("New password again", type="password", key="auth_new_password_again")
        if not st.form_submit_button("Change password"):
            return
        if new != again:
            st.error("New password: expected the same text twice, got two different ones.")
            return
        try:
            with session_factory(db_url()).begin() as session:
                store.change_password(
                    session, actor=user["name"], name=user["name"], new_password=new, old_password=old
                )
        except StoreError as e:
            st.error(str(e))
            return
    _signed_out("Password changed: please log in with the new one.")  # it ended every session of this user


def logout_button(user: dict | None = None) -> None:
    """Sidebar: who is signed in, Log out (revokes the session in the store), Change password."""
    user = user or current_user()
    if user is None:
        return
    _sync_cookie()
    st.sidebar.text(f"Signed in as {user['name']} ({user['role']})")
    if st.sidebar.button("Log out", key="auth_logout"):
        with session_factory(db_url()).begin() as session:
            store.logout(session, token=st.session_state.get(AUTH_KEY))
        _signed_out()
    _change_password(user)


def require_role(role: str) -> dict:
    """The signed-in user if their role is at least `role`; otherwise a login form or an error, then st.stop()."""
    session_factory(db_url())  # upgrade the schema before anything reads it
    user = current_user()
    if user is None:
        st.info("Please log in to see this page.")
        login_form()
        st.stop()
    logout_button(user)
    sidebar_nav(ROLE_RANK, user["role"])
    if ROLE_RANK[user["role"]] < ROLE_RANK[role]:
        st.error(md(f"This page needs the {role!r} role or higher; you are {user['name']!r} ({user['role']})."))
        st.stop()
    return user

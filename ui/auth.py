"""Login against the store and the role check every page calls first.

The signed-in user lives in `st.session_state[AUTH_KEY]` as {"name", "role"}; tests may set it directly.
"""

import streamlit as st

from db import store
from db.errors import AuthenticationError
from db.users import ROLE_RANK  # the one role table
from ui.nav import sidebar_nav
from ui.resources import db_url, session_factory

AUTH_KEY = "auth_user"


def current_user() -> dict | None:
    """The signed-in user {"name", "role"} or None."""
    return st.session_state.get(AUTH_KEY)


def has_role(role: str) -> bool:
    user = current_user()
    return user is not None and ROLE_RANK[user["role"]] >= ROLE_RANK[role]


def login_form() -> None:
    """Username + password form; on success stores the user and reruns."""
    with st.form("login_form"):
        name = st.text_input("Username", key="login_name")
        password = st.text_input("Password", type="password", key="login_password")
        submitted = st.form_submit_button("Log in")
    if submitted:
        try:
            with session_factory(db_url()).begin() as session:
                user = store.authenticate(session, name=name.strip(), password=password)
        except AuthenticationError as e:
            st.error(str(e))
            return
        st.session_state[AUTH_KEY] = {"name": user["name"], "role": user["role"]}
        st.rerun()


def logout_button() -> None:
    user = current_user()
    if user is not None:
        st.sidebar.text(f"Signed in as {user['name']} ({user['role']})")
        if st.sidebar.button("Log out", key="auth_logout"):
            st.session_state.pop(AUTH_KEY, None)
            st.rerun()


def require_role(role: str) -> dict:
    """The signed-in user if their role is at least `role`; otherwise a login form or an error, then st.stop()."""
    session_factory(db_url())  # upgrade (and seed a new demo database) before anything reads it
    user = current_user()
    if user is None:
        st.info("Please log in to see this page.")
        login_form()
        st.stop()
    logout_button()
    sidebar_nav(ROLE_RANK, user["role"])
    if not has_role(role):
        st.error(f"This page needs the {role!r} role or higher; you are {user['name']!r} ({user['role']}).")
        st.stop()
    return user

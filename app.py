"""PAL Studio home: log in, what the workbench does, and links to every page."""

import streamlit as st

from db import store
from db.users import ROLE_RANK
from ui.auth import current_user, login_form, logout_button
from ui.nav import allowed_pages, sidebar_nav
from ui.render import md
from ui.resources import db_url, read_only, session_factory

st.set_page_config(page_title="PAL Studio", layout="wide")
session_factory(db_url())  # upgrade the schema (no data is added: see README, "Accounts")

st.title("PAL Studio")
st.write(
    "A workbench for persona-consistent dialogue (Persona-Aware Alignment): compare systems' replies side by side, "
    "inspect how they pick persona sentences, rank them from human judgements, and turn the judgements into "
    "preference data for DPO."
)
user = current_user()
if user is None:
    st.subheader("Log in")
    with read_only() as session:
        empty, demo = store.is_empty(session), store.is_demo(session)
    if empty:
        st.info("No accounts yet: create the first admin with `pal user add NAME --role admin`.")
    login_form()
    if demo:  # only a database `pal demo seed` made has these accounts (public passwords)
        with st.expander("Demo accounts"):
            rows = [{"user": n, "role": r, "password": p} for n, (r, p) in store.DEMO_USERS.items()]
            st.dataframe(rows, hide_index=True)
    st.stop()

logout_button(user)
st.success(f"Signed in as {md(user['name'])} ({user['role']}).", icon=":material/check:")
sidebar_nav(ROLE_RANK, user["role"])
for page in allowed_pages(ROLE_RANK, user["role"]):
    st.page_link(page.path, label=f"{page.label}: {page.purpose}")

"""PAL Studio home: log in, what the workbench does, and links to every page."""

import streamlit as st

from db.store import DEMO_USERS
from db.users import ROLE_RANK
from ui.auth import current_user, login_form, logout_button
from ui.nav import allowed_pages, sidebar_nav
from ui.render import md
from ui.resources import db_url, session_factory

st.set_page_config(page_title="PAL Studio", layout="wide")
session_factory(db_url())  # upgrade the schema; a database without users gets the demo data

st.title("PAL Studio")
st.write(
    "A workbench for persona-consistent dialogue (Persona-Aware Alignment): compare systems' replies side by side, "
    "inspect how they pick persona sentences, rank them from human judgements, and turn the judgements into "
    "preference data for DPO."
)
user = current_user()
if user is None:
    st.subheader("Log in")
    login_form()
    with st.expander("Demo accounts"):
        st.dataframe([{"user": n, "role": r, "password": p} for n, (r, p) in DEMO_USERS.items()], hide_index=True)
    st.stop()

logout_button()
st.success(f"Signed in as {md(user['name'])} ({user['role']}).", icon=":material/check:")
sidebar_nav(ROLE_RANK, user["role"])
for path, label, _, help_text in allowed_pages(ROLE_RANK, user["role"]):
    st.page_link(path, label=f"{label}: {help_text}")

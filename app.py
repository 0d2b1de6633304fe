"""PAL Studio home: log in, what the workbench does, and links to every page."""

import streamlit as st

from db.store import DEMO_USERS
from ui.auth import current_user, has_role, login_form, logout_button
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
st.success(f"Signed in as {user['name']} ({user['role']}).", icon=":material/check:")
PAGES = [
    ("pages/1_Annotate.py", "Annotate", "annotator", "compare two replies, keyboard first (1-4, Enter, U)"),
    ("pages/2_Inspector.py", "Persona selection inspector", "viewer", "selector scores, confusion, errors"),
    ("pages/3_Leaderboard.py", "Leaderboard", "viewer", "Bradley-Terry with 95% intervals, win rates, metrics"),
    ("pages/4_Agreement.py", "Agreement & review", "viewer", "kappa / alpha, gold accuracy, adjudication"),
    ("pages/5_Export_and_train.py", "Export & train", "viewer", "preference pairs, DPO in the background"),
    ("pages/6_Playground.py", "Playground", "annotator", "chat with a model given a persona"),
    ("pages/7_Admin.py", "Admin", "admin", "users, projects, imports, progress"),
]
for path, label, role, help_text in PAGES:
    st.page_link(path, label=f"{label}: {help_text}", disabled=not has_role(role))

"""Admin: users and roles, run uploads and imports (hide or delete a run), dialogue-file uploads, projects (systems,
questions asked and required, gold items, speed threshold, queue order), progress per annotator."""

import pandas as pd
import streamlit as st

from db import store
from ui import admin
from ui.access import require_page
from ui.admin import write
from ui.render import pick_project
from ui.resources import confine, read_only

user = require_page(__file__)
actor = user["name"]
st.title("Admin")
admin.start()  # empties the form that just succeeded, shows its message

users_tab, import_tab, project_tab, progress_tab = st.tabs(["Users", "Runs and data", "Projects", "Progress"])
with users_tab:
    with st.form("admin_new_user", clear_on_submit=True):
        st.subheader("New user")
        name = st.text_input("Name", key="admin_user_name")
        password = st.text_input("Password (8+ characters)", type="password", key="admin_user_password")
        role = st.selectbox("Role", store.ROLES, index=store.ROLES.index("annotator"), key="admin_user_role")
        if st.form_submit_button("Create user"):
            write(
                lambda s: store.create_user(s, actor=actor, name=name, password=password, role=role),
                f"Created {name}.",
            )
    with read_only() as session:
        users = store.list_users(session, actor=actor)
    st.dataframe(pd.DataFrame(users), hide_index=True, key="admin_users")
    c1, c2, c3 = st.columns([2, 2, 1], vertical_alignment="bottom")
    who = c1.selectbox("User", [u["name"] for u in users], key="admin_role_user")
    new_role = c2.selectbox("New role", store.ROLES, key="admin_role_value")
    if c3.button("Set role", key="admin_set_role"):
        write(lambda s: store.set_role(s, actor=actor, name=who, role=new_role), f"{who} is now {new_role}.")
    disabled = {u["name"]: u["disabled"] for u in users}.get(who, False)
    if st.button(f"{'Enable' if disabled else 'Disable'} {who}", key="admin_toggle_disabled"):
        write(
            lambda s: store.set_disabled(s, actor=actor, name=who, disabled=not disabled),
            f"{who} is now {'enabled' if disabled else 'disabled'}.",
        )
    with st.form("admin_password", clear_on_submit=True):
        new_password = st.text_input(f"New password for {who} (8+ characters)", type="password", key="admin_password")
        if st.form_submit_button("Set password"):  # also ends the user's open sessions
            write(
                lambda s: store.change_password(s, actor=actor, name=who, new_password=new_password),
                f"Password of {who} changed.",
            )

with import_tab:
    admin.upload_run_form(actor)
    admin.upload_dialogues_form()
    with st.expander("Import a run directory on the server"):
        run_dir = st.text_input("Run directory (config.json + outputs.jsonl)", key="admin_run_dir")
        system_name = st.text_input("System name (empty: the run's config)", key="admin_system_name")
        if st.button("Import run", key="admin_import", disabled=not run_dir.strip()):
            write(
                lambda s: store.import_run(  # a typed server path: confined to the allowed roots
                    s, actor=actor, run_dir=confine(run_dir.strip()), system_name=system_name.strip() or None
                ),
                f"Imported {run_dir}.",
            )
    with read_only() as session:
        systems = store.list_systems(session, actor=actor, include_hidden=True)
    st.dataframe(pd.DataFrame(systems).drop(columns=["config"], errors="ignore"), hide_index=True, key="admin_systems")
    admin.hide_or_delete_run(actor, systems)

with project_tab:
    admin.project_form(actor, [s for s in systems if not s["hidden"]])
    with read_only() as session:
        projects = store.list_projects(session, actor=actor)
    st.dataframe(pd.DataFrame(projects), hide_index=True, key="admin_projects")
    admin.queue_order_row(actor, projects)

with progress_tab:
    project = pick_project(actor, "admin_progress_project")
    if project is not None:
        with read_only() as session:
            progress = store.project_progress(session, actor=actor, project_id=project["id"])
        c1, c2, c3 = st.columns(3)
        c1.metric("Items", progress["n_items"])
        c2.metric("Judgements", f"{progress['done']} / {progress['required']}")
        c3.metric("Complete items", progress["complete_items"])
        st.progress(progress["done"] / max(progress["required"], 1))
        st.dataframe(pd.DataFrame(progress["annotators"]), hide_index=True, key="admin_progress")

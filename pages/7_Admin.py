"""Admin: users and roles, run uploads and imports, dialogue-file uploads, projects (systems, questions asked and
required, gold items, speed threshold, queue order), progress per annotator."""

import pandas as pd
import streamlit as st

from db import store
from db.errors import StoreError
from db.session import run_in_transaction
from pal_core.errors import DataFormatError, PalError
from ui import uploads
from ui.auth import require_role
from ui.render import md, pick_project
from ui.resources import confine, db_url, read_only, session_factory

user = require_role("admin")
actor = user["name"]
st.title("Admin")


def spaced(name: str) -> str:
    return name.replace("_", " ")


def write(action, done: str) -> None:
    """Run a store call in one transaction (retried while SQLite is locked); show its error or `done`."""
    try:
        run_in_transaction(session_factory(db_url()), action)
    except (StoreError, PalError) as e:
        st.error(md(str(e)))
        return
    st.success(md(done))


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
    with st.form("admin_upload_run", clear_on_submit=True):
        st.subheader("Upload a run")
        outputs = st.file_uploader("outputs.jsonl (responses; .gz too)", key="admin_upload_outputs")
        config = st.file_uploader("config.json (optional)", type=["json"], key="admin_upload_config")
        upload_name = st.text_input("System name (empty: the config's)", key="admin_upload_system")
        if st.form_submit_button("Check and import"):
            if outputs is None:
                st.error("Choose an outputs.jsonl file first.")
            else:
                write(
                    lambda s: uploads.import_uploaded_run(
                        s,
                        actor=actor,
                        outputs_name=outputs.name,
                        outputs=outputs.getvalue(),
                        system_name=upload_name,
                        config=config.getvalue() if config is not None else None,
                        config_name=config.name if config is not None else "config.json",
                    ),
                    f"Imported {outputs.name} as a new system.",
                )
    with st.form("admin_upload_data", clear_on_submit=True):
        st.subheader("Upload a dialogue file")
        dialogue_file = st.file_uploader(
            "ParlAI text, PAL JSON or JSONL (.gz too), checked like `pal data stats`", key="admin_upload_dialogues"
        )
        submitted = st.form_submit_button("Check and keep")
        if submitted and dialogue_file is None:
            st.error("Choose a dialogue file first.")
        elif submitted:
            try:
                kept, stats = uploads.keep_uploaded_dialogues(dialogue_file.name, dialogue_file.getvalue())
            except DataFormatError as e:
                st.error(md(str(e)))
            else:
                st.success(
                    md(f"Kept {kept} ({stats.n_examples} examples, {stats.n_dialogues} dialogues)."),
                )
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
        systems = store.list_systems(session, actor=actor)
    st.dataframe(pd.DataFrame(systems).drop(columns=["config"], errors="ignore"), hide_index=True, key="admin_systems")

with project_tab:
    with st.form("admin_new_project"):
        st.subheader("New project")
        project_name = st.text_input("Name", key="admin_project_name")
        chosen = st.multiselect(
            "Systems to compare (two or more)", [s["name"] for s in systems], key="admin_project_systems"
        )
        guidelines = st.text_area("Guidelines", key="admin_project_guidelines")
        per_item = st.number_input("Annotators per item", 1, 10, 2, key="admin_project_per_item")
        asked = st.multiselect(
            "Questions asked about each reply",
            store.QUESTIONS,
            default=list(store.DEFAULT_QUESTIONS),
            key="admin_project_questions",
        )
        required = st.multiselect(
            "Of those, required before Submit (the rest may stay unanswered)",
            store.QUESTIONS,
            key="admin_project_required",
        )
        min_seconds = st.number_input(
            "Flag annotators faster than (median seconds per judgement)", 0.0, 600.0, 3.0, key="admin_project_min_s"
        )
        queue_order = st.selectbox("Queue order", store.QUEUE_ORDERS, format_func=spaced, key="admin_project_queue")
        n_items = st.number_input(
            "Items (0 = every pair of every shared dialogue)", 0, 100_000, 0, key="admin_project_n_items"
        )
        gold_text = st.text_area(
            "Gold items, one per line: dialogue_id = better system (or tie / both_bad)", key="admin_project_gold"
        )
        if st.form_submit_button("Create project"):
            gold = dict(tuple(p.strip() for p in line.split("=", 1)) for line in gold_text.splitlines() if "=" in line)
            write(
                lambda s: store.create_project(
                    s,
                    actor=actor,
                    name=project_name,
                    system_names=chosen,
                    guidelines=guidelines,
                    annotators_per_item=int(per_item),
                    n_items=int(n_items) or None,
                    gold_items=gold,
                    questions=asked,
                    required_questions=required,
                    min_seconds=float(min_seconds),
                    queue_order=queue_order,
                ),
                f"Created project {project_name}.",
            )
    with read_only() as session:
        projects = store.list_projects(session, actor=actor)
    st.dataframe(pd.DataFrame(projects), hide_index=True, key="admin_projects")
    current = {p["id"]: p for p in projects}
    c1, c2, c3 = st.columns([2, 2, 1], vertical_alignment="bottom")
    pid = c1.selectbox("Project", list(current), format_func=lambda i: current[i]["name"], key="admin_queue_project")
    now = store.QUEUE_ORDERS.index(current[pid]["queue_order"]) if pid is not None else 0
    order = c2.selectbox("Serve items", store.QUEUE_ORDERS, now, format_func=spaced, key="admin_queue_order")
    if pid is not None and c3.button("Set queue order", key="admin_set_queue_order"):
        write(lambda s: store.set_queue_order(s, actor=actor, project_id=pid, queue_order=order), "Queue order saved.")

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

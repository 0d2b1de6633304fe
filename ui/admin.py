"""The Admin page's parts: one way to run a store write (retried while SQLite is locked) and report it, forms that
clear only after they succeed (a refused form keeps what was typed or chosen), the run and dialogue uploads, the
control that hides or deletes a run, and the New project form."""

import streamlit as st

from db import store
from db.errors import StoreError
from db.session import run_in_transaction
from pal_core.errors import DataFormatError, PalError
from ui import uploads
from ui.render import md
from ui.resources import db_url, session_factory

FLASH = "admin_flash"  # a success message to show after the rerun that cleared a form
RESET = "admin_reset"  # {widget key: empty value} to apply before the widgets are drawn again
ROUND = "admin_upload_round"  # bumped after a successful upload: the file choosers start empty again
PROJECT_FORM = {  # widget key -> its value in an empty New project form
    "admin_project_name": "",
    "admin_project_systems": [],
    "admin_project_guidelines": "",
    "admin_project_per_item": 2,
    "admin_project_questions": list(store.DEFAULT_QUESTIONS),
    "admin_project_required": [],
    "admin_project_min_s": 3.0,
    "admin_project_n_items": 0,
    "admin_project_gold": "",
    "admin_project_queue": store.QUEUE_ORDERS[0],
}


def write(action, done: str, *, clear: dict | None = None) -> bool:
    """Run a store call in one transaction (retried while SQLite is locked) and show its error, or `done`. With
    `clear` ({widget key: empty value}), a success empties those widgets (rerun) and shows `done` after it."""
    try:
        run_in_transaction(session_factory(db_url()), action)
    except (StoreError, PalError) as e:
        st.error(md(str(e)))
        return False
    if clear is None:
        st.success(md(done))
        return True
    st.session_state[RESET] = clear  # widgets drawn in this run cannot change: the next run empties them
    st.session_state[FLASH] = done
    st.rerun()


def start() -> None:
    """Call before any widget: empty the form that just succeeded and show its message."""
    st.session_state.update(st.session_state.pop(RESET, {}))
    done = st.session_state.pop(FLASH, None)
    if done:
        st.success(md(done))


def _key(name: str) -> str:
    n = st.session_state.get(ROUND, 0)
    return name if n == 0 else f"{name}_{n}"


def upload_run_form(actor: str) -> None:
    """outputs.jsonl (+ config.json) checked and imported; a refused upload keeps the chosen files for a retry."""
    with st.form("admin_upload_run"):
        st.subheader("Upload a run")
        outputs = st.file_uploader("outputs.jsonl (responses; .gz too)", key=_key("admin_upload_outputs"))
        config = st.file_uploader("config.json (optional)", type=["json"], key=_key("admin_upload_config"))
        name = st.text_input("System name (empty: the config's)", key=_key("admin_upload_system"))
        if not st.form_submit_button("Check and import"):
            return
    if outputs is None:
        st.error("Choose an outputs.jsonl file first.")
        return
    imported = write(
        lambda s: uploads.import_uploaded_run(
            s,
            actor=actor,
            outputs_name=outputs.name,
            outputs=outputs.getvalue(),
            system_name=name,
            config=config.getvalue() if config is not None else None,
            config_name=config.name if config is not None else "config.json",
        ),
        f"Imported {outputs.name} as a new system.",
    )
    if not imported:
        st.caption("The chosen files are kept: fix them or the name, then press Check and import again.")
        return
    st.session_state[ROUND] = st.session_state.get(ROUND, 0) + 1
    st.session_state[FLASH] = f"Imported {outputs.name} as a new system."
    st.rerun()


def upload_dialogues_form() -> None:
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
            st.error(md(f"{e} (choose the file again once it is fixed)"))
        else:
            st.success(md(f"Kept {kept} ({stats.n_examples} examples, {stats.n_dialogues} dialogues)."))


def hide_or_delete_run(actor: str, systems: list[dict]) -> None:
    """Hide a run from the pages (its judgements kept), show it again, or delete one no project compares."""
    st.subheader("Hide or delete a run")
    hidden = {s["name"]: s["hidden"] for s in systems}
    who = st.selectbox("System", list(hidden), key="admin_hide_system")
    if who is None:
        return
    c1, c2 = st.columns(2)
    label = "Show again on the pages" if hidden[who] else "Hide from the pages (judgements are kept)"
    if c1.button(label, key="admin_hide"):
        write(
            lambda s: store.hide_system(s, actor=actor, name=who, hidden=not hidden[who]),
            f"{who} is now {'shown' if hidden[who] else 'hidden'}.",
            clear={},
        )
    if c2.button("Delete (only a system no project compares)", key="admin_delete_system"):
        write(lambda s: store.delete_system(s, actor=actor, name=who), f"Deleted {who}.", clear={})


def project_form(actor: str, systems: list[dict]) -> None:
    """The New project form; emptied after a project is created, kept as typed when the store refuses it."""
    for key, empty in PROJECT_FORM.items():
        st.session_state.setdefault(key, empty)
    with st.form("admin_new_project"):
        st.subheader("New project")
        name = st.text_input("Name", key="admin_project_name")
        chosen = st.multiselect(
            "Systems to compare (two or more)", [s["name"] for s in systems], key="admin_project_systems"
        )
        guidelines = st.text_area("Guidelines", key="admin_project_guidelines")
        per_item = st.number_input("Annotators per item", 1, 10, key="admin_project_per_item")
        asked = st.multiselect("Questions asked about each reply", store.QUESTIONS, key="admin_project_questions")
        required = st.multiselect(
            "Of those, required before Submit (the rest may stay unanswered)",
            store.QUESTIONS,
            key="admin_project_required",
        )
        min_seconds = st.number_input(
            "Flag annotators faster than (median seconds per judgement)", 0.0, 600.0, key="admin_project_min_s"
        )
        queue_order = st.selectbox("Queue order", store.QUEUE_ORDERS, format_func=spaced, key="admin_project_queue")
        n_items = st.number_input(
            "Items (0 = every pair of every shared dialogue)", 0, 100_000, key="admin_project_n_items"
        )
        gold_text = st.text_area(
            "Gold items, one per line: dialogue_id = better system (or tie / both_bad)", key="admin_project_gold"
        )
        if not st.form_submit_button("Create project"):
            return
    gold = dict(tuple(p.strip() for p in line.split("=", 1)) for line in gold_text.splitlines() if "=" in line)
    write(
        lambda s: store.create_project(
            s,
            actor=actor,
            name=name,
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
        f"Created project {name}.",
        clear=PROJECT_FORM,
    )


def spaced(name: str) -> str:
    return name.replace("_", " ")


def queue_order_row(actor: str, projects: list[dict]) -> None:
    """Project, its queue order (shown as stored) and a button that saves a new one."""
    current = {p["id"]: p for p in projects}
    c1, c2, c3 = st.columns([2, 2, 1], vertical_alignment="bottom")
    pid = c1.selectbox("Project", list(current), format_func=lambda i: current[i]["name"], key="admin_queue_project")
    now = store.QUEUE_ORDERS.index(current[pid]["queue_order"]) if pid is not None else 0
    order = c2.selectbox("Serve items", store.QUEUE_ORDERS, now, format_func=spaced, key="admin_queue_order")
    if pid is not None and c3.button("Set queue order", key="admin_set_queue_order"):
        write(lambda s: store.set_queue_order(s, actor=actor, project_id=pid, queue_order=order), "Queue order saved.")

"""Export & train: preference pairs from the judgements (filters, preview, JSONL/CSV), and a background DPO run on
them whose model, once evaluated, is registered as a new system. Below researcher: the judgement counts only,
hidden from an annotator who still has items to judge (blind annotation)."""

from functools import partial
from pathlib import Path

import pandas as pd
import streamlit as st

from db import store
from db.errors import StoreError
from pal_core.errors import PalError
from pal_core.training.records import to_preference_records
from ui import interop, jobs
from ui.access import may_see_results, require_page
from ui.auth import has_role
from ui.downloads import audit_download
from ui.exports import job_status, jsonl_text, preview_frame
from ui.render import md, pick_project
from ui.resources import db_url, read_only, session_factory

JOBS_DIR = Path(".pal") / "jobs"  # relative to the app's working directory (ignored by git)

user = require_page(__file__)
st.title("Export & train")
project = pick_project(user["name"], "export_project")
if project is None:
    st.stop()
if not has_role("researcher"):  # viewers and annotators: aggregates only, no filters or downloads
    if may_see_results(user, project):
        with read_only() as session:  # no write lock (db.session.read_session)
            counts = store.outcome_counts(session, actor=user["name"], project_id=project["id"])
        st.metric("Judgements", sum(c["n"] for c in counts))
        st.dataframe(pd.DataFrame(counts), hide_index=True, key="export_counts")
    st.caption("Exports and training runs need the researcher role.")
    st.stop()
c1, c2, c3 = st.columns(3)
majority = c1.toggle("One pair per item (majority / adjudication)", value=True, key="export_majority")
drop_ties = c2.toggle("Drop ties", value=True, key="export_drop_ties")
min_agreement = c3.slider("Minimum agreement", 0.0, 1.0, 0.0, step=0.05, key="export_min_agreement")
with read_only() as session:
    rows = store.export_preferences(
        session,
        actor=user["name"],
        project_id=project["id"],
        drop_ties=drop_ties,
        min_agreement=min_agreement,
        majority=majority,
    )
    table = store.judgements_frame(session, actor=user["name"], project_id=project["id"])
records = to_preference_records(rows)
st.metric("Preference pairs", len(records))
st.dataframe(preview_frame(records), hide_index=True, key="export_preview")
d1, d2 = st.columns(2)
d1.download_button(
    "Download preference pairs (JSONL)",
    jsonl_text(records),
    file_name=f"preferences-p{project['id']}.jsonl",
    mime="application/jsonl",
    key="export_jsonl",
    disabled=not records,
    on_click=audit_download,
    args=(user["name"], project["id"], "preferences", len(records)),
)
d2.download_button(
    "Download all judgements (CSV)",
    store.judgements_csv(table),  # cells starting with = + - @ escaped
    file_name=f"judgements-p{project['id']}.csv",
    mime="text/csv",
    key="export_csv",
    on_click=audit_download,
    args=(user["name"], project["id"], "judgements", len(table)),
)
st.caption("Open formats (docs/interop.md): items and judgements for Label Studio, Argilla or Hugging Face.")
for column, (fmt, label) in zip(st.columns(len(interop.LABELS)), interop.LABELS.items(), strict=True):
    column.download_button(
        label,
        partial(interop.export_zip, session_factory(db_url()), user["name"], project["id"], fmt, records),
        file_name=f"{fmt}-p{project['id']}.zip",
        mime="application/zip",
        key=f"export_{fmt.replace('-', '_')}",
        on_click="ignore",
    )

st.header("Train with DPO")
model = st.text_input("Start model (empty: SmolLM2-135M-Instruct, or a local checkpoint path)", key="export_model")
max_steps = st.number_input("Training steps", 1, 100_000, 20, key="export_max_steps")
if st.button("Start DPO in the background", key="export_train", disabled=not records):
    try:
        st.session_state.export_job = jobs.start_dpo_job(
            records,
            actor=user["name"],
            url=db_url(),
            jobs_dir=JOBS_DIR,
            name=jobs.new_job_name(),
            model=model.strip(),
            max_steps=int(max_steps),
        )
    except (PalError, StoreError) as e:
        st.error(md(str(e)))
job_status(user["name"])

"""Export & train: preference pairs from the judgements (filters, preview, JSONL/CSV), and a background DPO run on
them whose model, once evaluated, is registered as a new system."""

import json
from pathlib import Path

import pandas as pd
import streamlit as st

from db import store
from db.errors import StoreError
from pal_core.errors import PalError
from pal_core.training.records import to_preference_records
from ui import jobs
from ui.auth import has_role, require_role
from ui.downloads import audit_download
from ui.render import md, pick_project
from ui.resources import db_url, read_only, session_factory

JOBS_DIR = Path(".pal") / "jobs"  # relative to the app's working directory (ignored by git)

user = require_role("viewer")
st.title("Export & train")
project = pick_project(user["name"], "export_project")
if project is None:
    st.stop()
c1, c2, c3 = st.columns(3)
majority = c1.toggle("One pair per item (majority / adjudication)", value=True, key="export_majority")
drop_ties = c2.toggle("Drop ties", value=True, key="export_drop_ties")
min_agreement = c3.slider("Minimum agreement", 0.0, 1.0, 0.0, step=0.05, key="export_min_agreement")
if not has_role("researcher"):  # viewers and annotators see aggregates only
    with read_only() as session:  # no write lock (db.session.read_session)
        counts = store.outcome_counts(session, actor=user["name"], project_id=project["id"])
    st.metric("Judgements", sum(c["n"] for c in counts))
    st.dataframe(pd.DataFrame(counts), hide_index=True, key="export_counts")
    st.caption("Exports and training runs need the researcher role.")
    st.stop()
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
st.dataframe(
    pd.DataFrame(
        [
            {
                "id": r["id"],
                "persona_sentence": r["persona_sentence"],
                "chosen": r["chosen"][0]["content"],
                "rejected": r["rejected"][0]["content"],
                "agreement": r["provenance"]["agreement"],
                "annotators": r["provenance"]["annotator_ids"],
                "systems": r["provenance"]["systems"],
            }
            for r in records
        ]
    ),
    hide_index=True,
    key="export_preview",
)
jsonl = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
d1, d2 = st.columns(2)
d1.download_button(
    "Download preference pairs (JSONL)",
    jsonl,
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

st.header("Train with DPO")
if not has_role("researcher"):
    st.caption("A researcher starts training runs.")
    st.stop()
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


@st.fragment(run_every=2)
def job_status() -> None:
    job = st.session_state.get("export_job")
    if job is None:
        return
    jobs.advance(job)
    tail, fraction = jobs.read_log(job)
    st.text(f"Job {job.name}: {job.stage} (folder {job.folder})")
    if job.stage in ("train", "evaluate"):
        st.progress(fraction or 0.0, text=f"{job.stage}: {fraction or 0:.0%}")
    st.code(tail or "(no output yet)", language=None)
    if job.stage not in ("evaluate", "ready"):
        return
    if job.stage == "evaluate":
        st.caption("Training is done: register the model now, or wait for its evaluation to register its replies too.")
    if st.button(f"Register {job.name} as a new system", key="export_register"):
        try:
            with session_factory(db_url()).begin() as session:
                result = store.register_system(
                    session,
                    actor=user["name"],
                    name=job.name,
                    model=str(job.model_dir.resolve()),
                    config=job.system_config(),
                    run_dir=job.run_dir if job.stage == "ready" else None,
                )
        except StoreError as e:
            st.error(md(str(e)))
            return
        job.stage = "registered"
        st.success(
            md(
                f"System {result['system']} registered with {result['n_responses']} replies: "
                "add it to a project on the Admin page, or chat with it in the Playground."
            )
        )


job_status()

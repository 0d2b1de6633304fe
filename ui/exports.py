"""The Export & train page's preference-pair preview and download text, and the background DPO job's status panel
(a fragment that reruns every 2 s; a trained model is registered as a new system)."""

import json

import pandas as pd
import streamlit as st

from db import store
from db.errors import StoreError
from ui import jobs
from ui.render import md
from ui.resources import db_url, session_factory


def preview_frame(records: list[dict]) -> pd.DataFrame:
    """One row per preference record (pal_core.training.records): the sentence, both replies, who and how much
    agreed, and the systems."""
    return pd.DataFrame(
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
    )


def jsonl_text(records: list[dict]) -> str:
    """The records as JSON Lines (UTF-8 text, one record a line)."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def _register(actor: str, job: jobs.DpoJob) -> None:
    try:
        with session_factory(db_url()).begin() as session:
            result = store.register_system(
                session,
                actor=actor,
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


@st.fragment(run_every=2)
def job_status(actor: str) -> None:
    """The job in st.session_state["export_job"]: stage, progress, log tail, and the Register button once trained."""
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
        _register(actor, job)

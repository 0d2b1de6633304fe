"""Export & train page: the preview holds the store's preference pairs under the chosen filters; the train button
writes them and starts `pal train dpo` in the background; a finished job's model is registered as a system."""

import json
import shutil

import pytest
from pagekit import page, plain

from db import store
from db.session import make_session_factory
from pal_core import data
from ui.access import BLIND
from ui.jobs import DpoJob


def test_export_preview_follows_filters(db_url):
    with make_session_factory(db_url).begin() as session:
        per_item = store.export_preferences(session, actor="researcher", project_id=1)
        per_judgement = store.export_preferences(session, actor="researcher", project_id=1, majority=False)
    at = page("pages/5_Export_and_train.py", "researcher", "researcher").run()
    assert not at.exception
    preview = at.dataframe[0].value
    assert list(preview["id"]) == [r["id"] for r in per_item]
    assert list(preview["chosen"]) == [r["chosen"] for r in per_item]
    at.toggle(key="export_majority").set_value(False).run()
    assert len(at.dataframe[0].value) == len(per_judgement) > len(per_item)
    assert "A researcher starts training runs." not in [c.value for c in at.caption]  # researchers train


def test_viewer_sees_counts_only(db_url):
    with make_session_factory(db_url).begin() as session:
        counts = store.outcome_counts(session, actor="viewer", project_id=1)
    at = page("pages/5_Export_and_train.py", "viewer", "viewer").run()
    assert not at.exception
    assert at.dataframe[0].value.to_dict("records") == counts and len(at.dataframe) == 1
    assert "Exports and training runs need the researcher role." in [c.value for c in at.caption]
    assert not at.get("download_button")


def test_annotator_gets_no_counts_while_items_are_left_and_no_toggles(db_url):
    """The issue's probe: alice's Tie would move the (persona_free, sft, tie) count. While she has items left she
    sees no count at all, and no filter that would do nothing for her."""
    at = page("pages/5_Export_and_train.py", "alice", "annotator").run()
    assert not at.exception and not at.dataframe and not at.metric
    assert [i.value for i in at.info] == [BLIND]
    assert not at.toggle and not at.slider and not at.get("download_button")


def test_train_button_starts_dpo_on_the_export(db_url, tmp_path, monkeypatch, tiny_lm):
    monkeypatch.chdir(tmp_path)  # jobs go to ./.pal/jobs
    monkeypatch.setenv("PAL_ROOTS", str(tiny_lm.parent))  # a typed model path must lie under an allowed root
    at = page("pages/5_Export_and_train.py").run()
    n_pairs = len(at.dataframe[0].value)
    at.text_input(key="export_model").input(str(tiny_lm))
    at.number_input(key="export_max_steps").set_value(1)
    at.button(key="export_train").click().run()
    assert not at.exception
    job = at.session_state["export_job"]
    try:
        lines = (job.folder / "preferences.jsonl").read_text().splitlines()
        assert len(lines) == n_pairs
        assert json.loads(lines[0])["prompt"][0]["role"] in ("system", "user")
        assert job.log.read_text().startswith(f"$ pal train dpo --train_file {job.folder / 'preferences.jsonl'}")
        assert job.stage == "train" and job.process.poll() in (None, 0)
    finally:
        job.process.terminate()  # the training itself is tested in tests/pal_core; here only the launch
        job.process.wait(timeout=30)


def _finished_job(tmp_path, stage: str) -> DpoJob:
    """A job whose training (and, when ready, evaluation) is over: a model folder and a demo run as its run dir."""
    job = DpoJob(name=f"dpo-{stage}", folder=tmp_path / stage, stage=stage, max_steps=3)
    job.model_dir.mkdir(parents=True)
    shutil.copytree(data.demo_runs_dir() / "pal", job.run_dir)
    return job


@pytest.mark.parametrize("stage", ["ready", "evaluate"])  # evaluate: training done, the model registers alone
def test_register_button_adds_the_trained_model_as_a_system(db_url, tmp_path, stage):
    job = _finished_job(tmp_path, stage)
    lines = (job.run_dir / "outputs.jsonl").read_text().splitlines()
    n_replies = len([line for line in lines if line.strip()]) if stage == "ready" else 0
    at = page("pages/5_Export_and_train.py")
    at.session_state["export_job"] = job
    at.run()
    at.button(key="export_register").click().run()
    assert not at.exception
    assert plain(at.success[0].value).startswith(f"System {job.name} registered with {n_replies} replies")
    with make_session_factory(db_url).begin() as session:
        systems = {s["name"]: s for s in store.list_systems(session, actor="viewer")}
    assert systems[job.name]["model"] == str(job.model_dir.resolve())
    assert systems[job.name]["config"] == job.system_config()
    assert systems[job.name]["n_responses"] == n_replies
    assert systems[job.name]["run_dir"] == (str(job.run_dir.resolve()) if stage == "ready" else "")

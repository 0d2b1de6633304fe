"""What the Report page needs: the runs of a project's systems and the human outcome counts the reader may see,
turned into pal_core.analysis.report's story. Outcomes come through the store, which applies the blindness rule
(an annotator with items left to judge gets no per-system aggregates); a refusal leaves the human table out."""

from db import store
from db.errors import StoreError
from pal_core.analysis.report import build_report
from ui.resources import load_run, read_only


def report_systems(actor: str) -> dict[str, str]:
    """{system name: run directory} of the systems with a run the dashboard can read."""
    with read_only() as session:
        systems = store.list_systems(session, actor=actor)
    return {s["name"]: s["run_dir"] for s in systems if s.get("run_dir")}


def human_outcomes(actor: str, project_id: int | None) -> tuple[list[dict] | None, str | None]:
    """(outcome counts, None) or (None, why they are left out)."""
    if project_id is None:
        return None, "No project chosen: human judgements are left out."
    try:
        with read_only() as session:
            return store.outcome_counts(session, actor=actor, project_id=project_id), None
    except StoreError as e:
        return None, f"Human judgements are left out: {e}"


def project_report(
    actor: str, project_id: int | None, run_dirs: dict[str, str], system: str, baseline: str
) -> tuple[dict, str | None]:
    """(the report dict, a note on what was left out or None); `run_dirs` as report_systems gives them."""
    runs = {name: load_run(run_dirs[name]) for name in (system, baseline)}
    outcomes, note = human_outcomes(actor, project_id)
    return build_report(runs, system=system, baseline=baseline, outcomes=outcomes), note

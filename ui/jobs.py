"""Background DPO jobs started from the Export & train page: `pal train dpo` on an export, then `pal evaluate` of the
new model on the demo data, so the result can be imported as a new system. Each step is a child process writing
to <job dir>/log.txt; the page polls `advance(job)` and reads the log."""

import re
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from db.users import authorize
from pal_core.errors import ConfigError
from pal_core.training.records import write_preferences
from ui.resources import confine_model, session_factory

_PROGRESS = re.compile(r"(\d+)/(\d+) \[")  # tqdm's "12/40 [00:03<00:09, ...]"


@dataclass
class DpoJob:
    """One export -> train -> evaluate pipeline; `stage` is train, evaluate, ready, registered or failed."""

    name: str
    folder: Path
    model: str = ""
    max_steps: int = 20
    eval_limit: int = 20
    stage: str = "train"
    process: subprocess.Popen | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", self.name):
            raise ConfigError(f"DpoJob.name: expected 1-64 letters, digits, '_', '.' or '-', got {self.name!r}")
        if self.max_steps < 1:
            raise ConfigError(f"DpoJob.max_steps: expected >= 1, got {self.max_steps}")

    @property
    def log(self) -> Path:
        return self.folder / "log.txt"

    @property
    def run_dir(self) -> Path:
        return self.folder / "run"

    @property
    def model_dir(self) -> Path:
        return self.folder / "model"

    def system_config(self) -> dict:
        """How the model was made, stored with the system it is registered as."""
        return {
            "trainer": "pal train dpo",
            "base_model": self.model or "default",
            "max_steps": self.max_steps,
            "train_file": str(self.folder / "preferences.jsonl"),
        }

    def _launch(self, args: list[str]) -> None:
        with self.log.open("a", encoding="utf-8") as log:
            log.write(f"$ pal {' '.join(args)}\n")
            log.flush()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "pal_core.cli", *args],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )


def new_job_name() -> str:
    return "dpo-" + datetime.now(UTC).strftime("%Y%m%d-%H%M%S")


def start_dpo_job(
    records: list[dict],
    *,
    actor: str,
    url: str,
    jobs_dir: Path,
    name: str,
    model: str = "",
    max_steps: int = 20,
    eval_limit: int = 20,
) -> DpoJob:
    """Write the preference records and start `pal train dpo` on them in the background. `actor` must be a
    researcher or admin of the store at `url` (PermissionDeniedError; the start is audited); a local `model` path
    must lie under the allowed roots (ConfigError)."""
    model = confine_model(model)
    with session_factory(url).begin() as session:
        authorize(session, actor=actor, minimum="researcher", action="start_dpo_job", target=name)
    job = DpoJob(name=name, folder=Path(jobs_dir) / name, model=model, max_steps=max_steps, eval_limit=eval_limit)
    job.folder.mkdir(parents=True, exist_ok=False)
    write_preferences(records, job.folder / "preferences.jsonl")
    args = [
        "train",
        "dpo",
        "--train_file",
        str(job.folder / "preferences.jsonl"),
        "--output_dir",
        str(job.model_dir),
        "--max_steps",
        str(max_steps),
        "--logging_steps",
        "1",
    ]
    job._launch(args + (["--model", model] if model else []))
    return job


def advance(job: DpoJob) -> DpoJob:
    """Move a finished step on: training done -> start the evaluation; evaluation done -> ready to register."""
    if job.process is None or job.stage not in ("train", "evaluate"):
        return job
    code = job.process.poll()
    if code is None:
        return job
    if code != 0:
        job.stage = "failed"
    elif job.stage == "train":
        job.stage = "evaluate"
        job._launch(
            [
                "evaluate",
                "--model",
                str(job.model_dir),
                "--output_dir",
                str(job.run_dir),
                "--limit",
                str(job.eval_limit),
                "--system",
                "select_then_generate",
            ]
        )
    else:
        job.stage = "ready"
    return job


def read_log(job: DpoJob, lines: int = 15) -> tuple[str, float | None]:
    """The last lines of the job's log and the latest tqdm progress fraction (None before the first bar)."""
    text = job.log.read_text(encoding="utf-8", errors="replace") if job.log.is_file() else ""
    found = _PROGRESS.findall(text)
    fraction = int(found[-1][0]) / max(int(found[-1][1]), 1) if found else None
    tail = "\n".join(text.replace("\r", "\n").splitlines()[-lines:])
    return tail, fraction

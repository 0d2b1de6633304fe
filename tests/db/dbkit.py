"""Constants and helpers shared by the store tests (a module of its own: `from conftest import` is ambiguous
when several test folders have a conftest.py)."""

import json
from pathlib import Path

from db import store

USERS = {
    "admin": "admin",
    "alice": "annotator",
    "bob": "annotator",
    "carol": "annotator",
    "rita": "researcher",
    "vic": "viewer",
}
PASSWORD = "correct-horse"  # every test user's password
SYSTEMS = ("sys_a", "sys_b", "sys_c")
N_DIALOGUES = 6


def write_run(run_dir: Path, system: str, n: int, *, first: int = 0, lines: list[str] | None = None) -> Path:
    """A run directory in the docs/interfaces.md format with n responses for dialogues d-<first>..d-<first+n-1>."""
    run_dir.mkdir(parents=True, exist_ok=True)
    config = {
        "system": system,
        "model": f"{system}-model",
        "selector": None,
        "data": "test.jsonl",
        "n_examples": n,
        "generation": {},
        "created_at": "2025-01-01T00:00:00+00:00",
        "wall_time_s": 0.1,
    }
    (run_dir / "config.json").write_text(json.dumps(config), encoding="utf-8")
    if lines is None:
        lines = [
            json.dumps(
                {
                    "id": f"d-{i}",
                    "dialogue_id": f"dlg-{i}",
                    "turn": 0,
                    "persona": ["i like tea.", "i have two dogs."],
                    "history": ["hi", "hello, how are you?"],
                    "reference": "i am good, drinking tea.",
                    "response": f"{system} reply {i}",
                    "gold_label": [0],
                    "selected_index": i % 2,
                    "selected_sentence": ["i like tea.", "i have two dogs."][i % 2],
                    "scores": [0.7, 0.2, 0.1],
                    "contradiction": [0.0, 0.1],
                    "time_s": 0.01,
                }
            )
            for i in range(first, first + n)
        ]
    (run_dir / "outputs.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return run_dir


def new_project(factory, name: str, **options) -> int:
    """A project over sys_a and sys_b created by admin (`options` as store.create_project takes them); its id."""
    with factory.begin() as s:
        return store.create_project(s, actor="admin", name=name, system_names=["sys_a", "sys_b"], **options)["id"]


def judge(factory, actor: str, project_id: int, preference: str, **answers) -> dict:
    """`actor` takes the project's next item and judges it in one transaction; returns the item."""
    with factory.begin() as s:
        item = store.next_item(s, actor=actor, project_id=project_id)
        store.record_judgement(s, actor=actor, item_id=item["item_id"], preference=preference, **answers)
    return item

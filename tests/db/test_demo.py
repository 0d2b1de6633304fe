"""seed_demo (db/demo.py): users, systems, project and judgements from the shipped demo runs; idempotent."""

from pathlib import Path

from db import store
from db.models import AuditLog, Comparison, Judgement, Project, System, User

DEMO_RUNS = Path(__file__).resolve().parents[2] / "pal_core" / "demo" / "runs"


def test_seed_demo_twice_changes_nothing(factory, count):
    with factory.begin() as s:
        first = store.seed_demo(s, runs_dir=DEMO_RUNS)
    assert first["created"] and first["n_judgements"] == 10
    assert first["users"] == ["researcher", "viewer"]  # the test template already has admin, alice and bob
    counts = [count(m) for m in (User, System, Project, Comparison, Judgement, AuditLog)]
    with factory.begin() as s:
        second = store.seed_demo(s, runs_dir=DEMO_RUNS)
    assert second == {
        "users": [],
        "systems": [],
        "project_id": first["project_id"],
        "n_judgements": 0,
        "created": False,
    }
    assert [count(m) for m in (User, System, Project, Comparison, Judgement, AuditLog)] == counts
    with factory() as s:
        project = store.get_project(s, actor="viewer", project_id=first["project_id"])
        assert project["name"] == store.DEMO_PROJECT and project["annotators_per_item"] == 2 and project["n_gold"] > 0
        assert len(store.list_disagreements(s, actor="researcher", project_id=project["id"])) == 1
        assert store.authenticate(s, name="viewer", password=store.DEMO_USERS["viewer"][1])["role"] == "viewer"

"""Queue order on the pages: the Admin page creates a project with a queue order and changes an existing project's;
the Leaderboard says how many more judgements the project likely needs."""

import pandas as pd
from pagekit import page, plain

from db import store
from db.session import make_session_factory
from pal_core.analysis import active


def _projects(url: str, field: str = "queue_order") -> dict[str, str]:
    with make_session_factory(url).begin() as session:
        return {p["name"]: p[field] for p in store.list_projects(session, actor="admin")}


def test_admin_sets_the_queue_order(db_url):
    at = page("pages/7_Admin.py").run()
    at.text_input(key="admin_project_name").input("Active")
    at.multiselect(key="admin_project_systems").set_value(["pal", "persona_free"])
    at.selectbox(key="admin_project_queue").set_value("most_informative")
    at.button(key="FormSubmitter:admin_new_project-Create project").click().run()
    assert not at.exception and "Created project Active." in [plain(s.value) for s in at.success]
    (demo,) = [name for name in _projects(db_url) if name != "Active"]
    assert _projects(db_url) == {demo: "as_imported", "Active": "most_informative"}
    ids = _projects(db_url, "id")
    at.selectbox(key="admin_queue_project").set_value(ids[demo])
    at.selectbox(key="admin_queue_order").set_value("random")
    at.button(key="admin_set_queue_order").click().run()
    assert not at.exception and "Queue order saved." in [plain(s.value) for s in at.success]
    assert _projects(db_url) == {demo: "random", "Active": "most_informative"}


def test_leaderboard_says_how_many_more_judgements_are_needed(db_url):
    at = page("pages/3_Leaderboard.py", "viewer", "viewer").run()
    assert not at.exception
    with make_session_factory(db_url).begin() as session:
        (project,) = store.list_projects(session, actor="admin")
        counts = store.outcome_counts(session, actor="admin", project_id=project["id"])
    rows = [{k: c[k] for k in ("system_a", "system_b", "preference")} for c in counts for _ in range(c["n"])]
    left = project["n_items"] * project["annotators_per_item"] - len(rows)
    expected = active.describe_judgements_needed(pd.DataFrame(rows), remaining=left)
    assert expected in [plain(c.value) for c in at.caption]

"""Admin page: create a user, change a role, build a project from imported systems, see progress."""

from pagekit import page

from db import store
from db.session import make_session_factory


def test_admin_creates_user_and_project(db_url):
    at = page("pages/7_Admin.py").run()
    assert not at.exception
    at.text_input(key="admin_user_name").input("carol")
    at.text_input(key="admin_user_password").input("carol-password")
    at.button(key="FormSubmitter:admin_new_user-Create user").click().run()
    assert "Created carol." in [s.value for s in at.success]
    at.text_input(key="admin_project_name").input("Two systems")
    at.multiselect(key="admin_project_systems").set_value(["pal", "persona_free"])
    at.number_input(key="admin_project_n_items").set_value(5)
    at.button(key="FormSubmitter:admin_new_project-Create project").click().run()
    assert not at.exception and "Created project Two systems." in [s.value for s in at.success]
    with make_session_factory(db_url).begin() as session:
        users = {u["name"]: u["role"] for u in store.list_users(session, actor="admin")}
        projects = {p["name"]: p["n_items"] for p in store.list_projects(session, actor="admin")}
    assert users["carol"] == "annotator" and projects["Two systems"] == 5
    assert set(at.dataframe[-1].value["user"]) == {"alice", "bob"}

"""Home page and login: the real form signs a user in; a wrong password does not; pages ask for a login first."""

from pagekit import page

from db import store
from db.session import make_session_factory, upgrade_db
from ui.auth import AUTH_KEY


def test_login_form_signs_in(db_url):
    at = page("app.py", user=None).run()
    at.text_input(key="login_name").input("alice")
    at.text_input(key="login_password").input("annotator-demo")
    at.button[0].click().run()  # the form's submit button
    assert not at.exception
    assert at.session_state[AUTH_KEY] == {"name": "alice", "role": "annotator"}
    assert "Signed in as alice (annotator)." in [s.value for s in at.success]


def test_login_wrong_password_is_refused(db_url):
    at = page("app.py", user=None).run()
    at.text_input(key="login_name").input("alice")
    at.text_input(key="login_password").input("wrong-password")
    at.button[0].click().run()
    assert AUTH_KEY not in at.session_state
    assert at.error[0].value == "authentication failed: unknown user or wrong password"


def test_page_without_login_shows_only_the_form(db_url):
    at = page("pages/3_Leaderboard.py", user=None).run()
    assert not at.exception
    assert [t.value for t in at.title] == []
    assert at.text_input(key="login_name") is not None


def test_viewer_is_refused_on_admin_page(db_url):
    at = page("pages/7_Admin.py", user="viewer", role="viewer").run()
    assert "needs the 'admin' role" in at.error[0].value
    assert [t.value for t in at.title] == []


def test_database_without_users_gets_the_demo(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    upgrade_db(url)  # an existing, migrated database that nobody has used yet (not only a new SQLite file)
    monkeypatch.setenv("PAL_DB_URL", url)
    at = page("app.py", user=None).run()
    assert not at.exception
    with make_session_factory(url).begin() as session:
        assert not store.is_empty(session)
        assert [p["name"] for p in store.list_projects(session, actor="admin")] == [store.DEMO_PROJECT]

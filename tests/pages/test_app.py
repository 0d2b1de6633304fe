"""Home page and login: the real form starts a session in the store; a wrong password does not and is recorded;
pages ask for a login first; logout, a role change or a disabled account end the session on the next page load; an
empty database gets no demo accounts."""

from pagekit import page, plain
from sqlalchemy import select

from db import store
from db.models import AuditLog
from db.session import make_session_factory, upgrade_db
from ui.auth import AUTH_KEY, ENDED


def _resolve(url: str, token) -> dict | None:
    with make_session_factory(url)() as session:
        return store.resolve_session(session, token=token)


def test_login_form_signs_in(db_url):
    at = page("app.py", user=None).run()
    at.text_input(key="login_name").input("alice")
    at.text_input(key="login_password").input("annotator-demo")
    at.button[0].click().run()  # the form's submit button
    assert not at.exception
    assert _resolve(db_url, at.session_state[AUTH_KEY])["name"] == "alice"  # a token of a session in the store
    assert "Signed in as alice (annotator)." in [s.value for s in at.success]


def test_login_wrong_password_is_refused(db_url):
    at = page("app.py", user=None).run()
    at.text_input(key="login_name").input("alice")
    at.text_input(key="login_password").input("wrong-password")
    at.button[0].click().run()
    assert AUTH_KEY not in at.session_state
    assert at.error[0].value == "authentication failed: unknown user or wrong password"
    with make_session_factory(db_url)() as session:  # recorded, although the login was refused
        failed = session.scalars(select(AuditLog).where(AuditLog.action == "login_failed")).all()
    assert [(a.target, a.details) for a in failed] == [("alice", {"failures": 1, "source": "local"})]


def test_page_without_login_shows_only_the_form(db_url):
    at = page("pages/3_Leaderboard.py", user=None).run()
    assert not at.exception
    assert [t.value for t in at.title] == []
    assert "login_name" in [w.key for w in at.text_input]


def test_viewer_is_refused_on_admin_page(db_url):
    at = page("pages/7_Admin.py", user="viewer", role="viewer").run()
    assert "needs the 'admin' role" in plain(at.error[0].value)
    assert [t.value for t in at.title] == []


def test_empty_database_gets_no_demo_accounts(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    upgrade_db(url)  # an existing, migrated database that nobody has used yet (not only a new SQLite file)
    monkeypatch.setenv("PAL_DB_URL", url)
    at = page("app.py", user=None).run()
    assert not at.exception
    assert at.info[0].value == "No accounts yet: create the first admin with `pal user add NAME --role admin`."
    assert not at.expander  # no demo passwords
    with make_session_factory(url).begin() as session:
        assert store.is_empty(session) and not store.is_demo(session)


def test_demo_database_lists_its_accounts(db_url):
    at = page("app.py", user=None).run()
    assert [e.label for e in at.expander] == ["Demo accounts"]
    assert list(at.dataframe[0].value["user"]) == list(store.DEMO_USERS)


def test_logout_revokes_the_session(db_url):
    at = page("app.py", "alice", "annotator").run()
    token = at.session_state[AUTH_KEY]
    at.button(key="auth_logout").click().run()
    assert AUTH_KEY not in at.session_state and _resolve(db_url, token) is None
    assert "login_name" in [w.key for w in at.text_input]


def test_demoted_admin_is_signed_out_on_the_next_load(db_url):
    """The role is read again on every page load; a role change also ends the open sessions."""
    with make_session_factory(db_url).begin() as session:
        store.create_user(session, actor="admin", name="ada", password="ada-password", role="admin")
    at = page("pages/7_Admin.py", "ada", "admin").run()
    assert [t.value for t in at.title] == ["Admin"]
    with make_session_factory(db_url).begin() as session:
        store.set_role(session, actor="admin", name="ada", role="viewer")
    at.run()
    assert not at.exception and [t.value for t in at.title] == []
    assert ENDED in [i.value for i in at.info] and "login_name" in [w.key for w in at.text_input]


def test_disabled_user_is_signed_out_on_the_next_load(db_url):
    at = page("pages/3_Leaderboard.py", "viewer", "viewer").run()
    assert [t.value for t in at.title] == ["Leaderboard"]
    with make_session_factory(db_url).begin() as session:
        store.set_disabled(session, actor="admin", name="viewer", disabled=True)
    at.run()
    assert not at.exception and [t.value for t in at.title] == [] and AUTH_KEY not in at.session_state

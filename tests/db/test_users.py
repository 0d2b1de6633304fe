"""Users, roles, password hashes, login sessions (lockout: test_lockout.py) and the audit log (db/users.py,
db/logins.py), on SQLite and PostgreSQL."""

import io
import time
from datetime import timedelta

import pytest
from dbkit import PASSWORD
from sqlalchemy import select

from db import store
from db.errors import AuthenticationError, PermissionDeniedError, StoreError
from db.models import AuditLog, LoginSession, User
from db.session import make_session_factory, upgrade_db


def test_create_user_stores_argon2_hash_and_audits(factory):
    with factory.begin() as s:
        user = store.create_user(s, actor="admin", name="dora", password="s3cret-pass", role="annotator")
    assert user["name"] == "dora" and user["role"] == "annotator"
    with factory() as s:
        stored = s.scalars(select(User).where(User.name == "dora")).one()
        assert stored.password_hash.startswith("$argon2id$") and "s3cret-pass" not in stored.password_hash
        audit = s.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first()
        assert (audit.actor, audit.action, audit.target) == ("admin", "create_user", "dora")


def test_create_user_cli_actor_is_audited_as_cli(factory):
    with factory.begin() as s:
        store.create_user(s, actor=None, name="root2", password="bootstrap-pw", role="admin")
        assert store.list_audit(s, actor="root2", limit=1)[0]["actor"] == "cli"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"name": "alice", "role": "viewer"}, r"name: expected a new user name, got existing 'alice'"),
        (
            {"name": "eve", "role": "superuser"},
            r"role: expected one of admin, researcher, annotator, viewer, got 'superuser'",
        ),
        ({"name": "", "role": "viewer"}, r"name: expected 1-64 characters"),
        ({"name": "eve", "role": "viewer", "password": "short"}, r"password: expected at least 8 characters"),
    ],
)
def test_create_user_rejects_bad_input_and_writes_nothing(factory, count, kwargs, match):
    before = count(User), count(AuditLog)
    with pytest.raises(StoreError, match=match), factory.begin() as s:
        store.create_user(s, actor="admin", **{"password": "long-enough", **kwargs})
    assert (count(User), count(AuditLog)) == before


@pytest.mark.parametrize(
    ("actor", "match"),
    [("alice", r"'alice' has role 'annotator'; this needs 'admin'"), ("mallory", r"unknown user 'mallory'")],
)
def test_create_user_needs_admin(factory, count, actor, match):
    before = count(User)
    with pytest.raises(PermissionDeniedError, match=match), factory.begin() as s:
        store.create_user(s, actor=actor, name="eve", password="long-enough", role="admin")
    assert count(User) == before


def test_authenticate_accepts_right_password_only(factory):
    with factory() as s:
        assert store.authenticate(s, name="alice", password=PASSWORD)["role"] == "annotator"
        with pytest.raises(AuthenticationError) as wrong:
            store.authenticate(s, name="alice", password="wrong password")
        with pytest.raises(AuthenticationError) as unknown:
            store.authenticate(s, name="nobody", password=PASSWORD)
    assert str(wrong.value) == str(unknown.value) == "authentication failed: unknown user or wrong password"


def test_list_users_and_set_role(factory):
    with factory.begin() as s:
        assert [u["name"] for u in store.list_users(s, actor="admin")] == [
            "admin",
            "alice",
            "bob",
            "carol",
            "rita",
            "vic",
        ]
        assert store.set_role(s, actor="admin", name="vic", role="annotator")["role"] == "annotator"
        with pytest.raises(PermissionDeniedError):
            store.list_users(s, actor="alice")
        with pytest.raises(StoreError, match="the last admin"):
            store.set_role(s, actor="admin", name="admin", role="viewer")
    with factory() as s:
        assert s.scalars(select(User.role).where(User.name == "vic")).one() == "annotator"
        assert store.list_audit(s, actor="admin", limit=1)[0]["details"] == {
            "old": "viewer",
            "new": "annotator",
            "sessions_revoked": 0,
        }


def test_is_empty_only_without_users(factory, tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    upgrade_db(url)
    empty = make_session_factory(url)
    with empty.begin() as s:
        assert store.is_empty(s)
        store.create_user(s, actor=None, name="first", password="first-admin-pw", role="admin")
        assert not store.is_empty(s)
    empty.kw["bind"].dispose()
    with factory() as s:
        assert not store.is_empty(s)


def _login(factory, name: str, password: str) -> dict | str:
    """store.login in its own transaction; the error message when refused (its failure record is committed)."""
    with factory.begin() as s:
        try:
            return store.login(s, name=name, password=password)
        except AuthenticationError as e:
            return str(e)


def test_session_resolves_with_the_current_role_until_logout_or_expiry(factory):
    started = _login(factory, "vic", PASSWORD)
    token = started["token"]
    with factory() as s:
        assert store.resolve_session(s, token=token)["role"] == "viewer"
        assert token not in str(s.scalars(select(LoginSession.token_hash)).all())  # only its hash is stored
        assert store.resolve_session(s, token="forged") is None and store.resolve_session(s, token=None) is None
    with factory.begin() as s:
        assert store.logout(s, token=token) is True
        assert store.logout(s, token=token) is False
    with factory() as s:
        assert store.resolve_session(s, token=token) is None
    with factory.begin() as s:
        short = store.start_session(s, name="vic", ttl=timedelta(microseconds=1))["token"]
    time.sleep(0.01)
    with factory() as s:
        assert store.resolve_session(s, token=short) is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda s: store.set_role(s, actor="admin", name="alice", role="viewer"), "role change"),
        (
            lambda s: store.change_password(s, actor="admin", name="alice", new_password="new-password-1"),
            "password change",
        ),
        (lambda s: store.set_disabled(s, actor="admin", name="alice", disabled=True), "disabled"),
    ],
)
def test_role_password_or_disable_revokes_open_sessions(factory, change, reason):
    token = _login(factory, "alice", PASSWORD)["token"]
    with factory.begin() as s:
        change(s)
    with factory() as s:
        assert store.resolve_session(s, token=token) is None
        assert s.scalars(select(LoginSession.revoked_reason)).all() == [reason]


def test_disabled_user_cannot_log_in_or_act(factory):
    with factory.begin() as s:
        assert store.set_disabled(s, actor="admin", name="alice", disabled=True)["disabled"] is True
    assert _login(factory, "alice", PASSWORD) == "authentication failed: unknown user or wrong password"
    with (
        factory() as s,
        pytest.raises(PermissionDeniedError, match="expected an enabled user, got disabled user 'alice'"),
    ):
        store.list_projects(s, actor="alice")
    with factory.begin() as s:
        store.set_disabled(s, actor=None, name="alice", disabled=False)  # the CLI operator
    assert _login(factory, "alice", PASSWORD)["name"] == "alice"
    with pytest.raises(StoreError, match="expected another enabled admin to remain"), factory.begin() as s:
        store.set_disabled(s, actor="admin", name="admin", disabled=True)
    with pytest.raises(PermissionDeniedError, match="this needs 'admin'"), factory.begin() as s:
        store.set_disabled(s, actor="rita", name="bob", disabled=True)


def test_change_password_own_needs_the_old_one_others_need_admin(factory):
    with pytest.raises(AuthenticationError, match="old_password: expected the current password"), factory.begin() as s:
        store.change_password(s, actor="alice", name="alice", new_password="alice-new-pw", old_password="wrong")
    with pytest.raises(PermissionDeniedError, match="this needs 'admin'"), factory.begin() as s:
        store.change_password(s, actor="alice", name="bob", new_password="bob-new-pw-1")
    with pytest.raises(StoreError, match="password: expected at least 8 characters"), factory.begin() as s:
        store.change_password(s, actor="alice", name="alice", new_password="short", old_password=PASSWORD)
    with factory.begin() as s:
        store.change_password(s, actor="alice", name="alice", new_password="alice-new-pw", old_password=PASSWORD)
        store.change_password(s, actor=None, name="bob", new_password="bob-new-pw-1")
    assert isinstance(_login(factory, "alice", PASSWORD), str)
    assert _login(factory, "alice", "alice-new-pw")["name"] == "alice"
    assert _login(factory, "bob", "bob-new-pw-1")["name"] == "bob"
    with factory() as s:
        actions = [a for a in s.scalars(select(AuditLog.action).order_by(AuditLog.id))]
    assert actions.count("change_password") == 2


def test_cli_user_passwd_disable_enable(db_url, factory, monkeypatch, capsys):
    from pal_core.cli.app import main

    token = _login(factory, "alice", PASSWORD)["token"]
    monkeypatch.setattr("sys.stdin", io.StringIO("alice-cli-pw\n"))
    assert main(["user", "passwd", "alice", "--password_stdin", "--url", db_url]) == 0
    assert "password changed for alice" in capsys.readouterr().out
    assert _login(factory, "alice", "alice-cli-pw")["name"] == "alice"
    with factory() as s:
        assert store.resolve_session(s, token=token) is None
    assert main(["user", "disable", "alice", "--url", db_url]) == 0
    assert isinstance(_login(factory, "alice", "alice-cli-pw"), str)
    assert main(["user", "enable", "alice", "--url", db_url]) == 0
    assert _login(factory, "alice", "alice-cli-pw")["name"] == "alice"
    assert main(["user", "disable", "nobody", "--url", db_url]) == 2
    assert capsys.readouterr().err.endswith("error: user: expected an existing user name, got 'nobody'\n")

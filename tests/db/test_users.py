"""Users, roles, password hashes and the audit log (db/users.py), on SQLite and PostgreSQL."""

import pytest
from dbkit import PASSWORD
from sqlalchemy import select

from db import store
from db.errors import AuthenticationError, PermissionDeniedError, StoreError
from db.models import AuditLog, User
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
        ({"name": "eve", "role": "superuser"}, r"role: expected one of admin, researcher, annotator, viewer, got 'superuser'"),
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
        assert [u["name"] for u in store.list_users(s, actor="admin")] == ["admin", "alice", "bob", "carol", "rita", "vic"]
        assert store.set_role(s, actor="admin", name="vic", role="annotator")["role"] == "annotator"
        with pytest.raises(PermissionDeniedError):
            store.list_users(s, actor="alice")
        with pytest.raises(StoreError, match="the last admin"):
            store.set_role(s, actor="admin", name="admin", role="viewer")
    with factory() as s:
        assert s.scalars(select(User.role).where(User.name == "vic")).one() == "annotator"
        assert store.list_audit(s, actor="admin", limit=1)[0]["details"] == {"old": "viewer", "new": "annotator"}


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

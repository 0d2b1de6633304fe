"""Dashboard sign-ins kept in the store: a random token for the browser, its SHA-256 in `login_sessions`, an expiry,
and revocation at logout, role or password change and when a user is disabled. The role is read from `users` on
every resolve, never from the session, so a changed role applies on the next page load."""

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.errors import StoreError
from db.models import LoginSession, User, utc_now
from db.users import audit, authenticate, get_user

SESSION_TTL = timedelta(hours=8)  # a sign-in lasts one working day at most


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, *, name: str, ttl: timedelta = SESSION_TTL) -> dict:
    """A new login session for user `name`, who has already proved who they are (login() does that).
    Returns {"token" (give it to the browser, it is stored only as a hash), "name", "role", "expires_at"}."""
    if not isinstance(ttl, timedelta) or ttl <= timedelta(0):
        raise StoreError(f"ttl: expected a positive timedelta, got {ttl!r}")
    user = get_user(session, name)
    if user.disabled:
        raise StoreError(f"name: expected an enabled user, got disabled user {name!r}")
    token = secrets.token_urlsafe(32)
    row = LoginSession(user_id=user.id, token_hash=_digest(token), expires_at=utc_now() + ttl)
    session.add(row)
    session.flush()
    return {"token": token, "name": user.name, "role": user.role, "expires_at": row.expires_at}


def login(session: Session, *, name: str, password: str, source: str = "", ttl: timedelta = SESSION_TTL) -> dict:
    """authenticate() (from client address `source`) then start_session(); audited. A failed login raises
    AuthenticationError after recording the failure in the caller's transaction: catch it inside the transaction so
    that the record is committed."""
    user = authenticate(session, name=name, password=password, source=source)
    started = start_session(session, name=user["name"], ttl=ttl)
    audit(session, user["name"], "login", user["name"])
    return started


def resolve_session(session: Session, *, token: str | None) -> dict | None:
    """{"name", "role", "expires_at"} of a valid session (not expired, not revoked, user enabled), the role as the
    users table holds it now; None otherwise. Reads only."""
    if not isinstance(token, str) or not token:
        return None
    found = session.execute(
        select(LoginSession.expires_at, User.name, User.role)
        .join(User, User.id == LoginSession.user_id)
        .where(
            LoginSession.token_hash == _digest(token),
            LoginSession.revoked_at.is_(None),
            LoginSession.expires_at > utc_now(),
            User.disabled.is_(False),
        )
    ).one_or_none()
    if found is None:
        return None
    return {"name": found.name, "role": found.role, "expires_at": found.expires_at}


def logout(session: Session, *, token: str | None) -> bool:
    """Revoke the session of `token`; False when it was not open."""
    if not isinstance(token, str) or not token:
        return False
    row = session.scalars(
        select(LoginSession).where(LoginSession.token_hash == _digest(token), LoginSession.revoked_at.is_(None))
    ).one_or_none()
    if row is None:
        return False
    row.revoked_at, row.revoked_reason = utc_now(), "logout"
    user = session.get(User, row.user_id)
    audit(session, user.name, "logout", user.name)
    return True

"""Users, roles, password hashes (argon2id via argon2-cffi) and the audit log; every store call's role check."""

import functools
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from db import throttle
from db.errors import AuthenticationError, NotFoundError, PermissionDeniedError, StoreError
from db.models import AuditLog, LoginSession, User, utc_now
from formats.vocab import ROLE_RANK, ROLES

CLI_ACTOR = "cli"  # audit name of actor=None, the trusted local operator
# argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): a login stays well under 100 ms on a busy CPU.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
_BAD_LOGIN = "authentication failed: unknown user or wrong password"
_LOCKED = "authentication failed: too many failed attempts from here; try again in "
MIN_PASSWORD = 8


@functools.cache
def _dummy_hash() -> str:
    """Hash verified against when the user does not exist, so both failures take the same time."""
    return _HASHER.hash("pal-studio-no-such-user")


def user_dict(user: User) -> dict:
    return {
        "id": user.id,
        "name": user.name,
        "role": user.role,
        "disabled": user.disabled,
        "created_at": user.created_at,
    }


def get_user(session: Session, name: str) -> User:
    user = session.scalars(select(User).where(User.name == name)).one_or_none()
    if user is None:
        raise NotFoundError(f"user: expected an existing user name, got {name!r}")
    return user


def require_role(session: Session, actor: str | None, minimum: str, *, allow_cli: bool = False) -> User | None:
    """The acting User if its role is at least `minimum`; None for the CLI operator where allowed."""
    if actor is None:
        if allow_cli:
            return None
        raise PermissionDeniedError("actor: expected a user name, got None (only CLI administration may omit it)")
    user = session.scalars(select(User).where(User.name == actor)).one_or_none()
    if user is None:
        raise PermissionDeniedError(f"actor: expected an existing user, got unknown user {actor!r}")
    if user.disabled:
        raise PermissionDeniedError(f"actor: expected an enabled user, got disabled user {actor!r}")
    if ROLE_RANK[user.role] < ROLE_RANK[minimum]:
        raise PermissionDeniedError(f"{actor!r} has role {user.role!r}; this needs {minimum!r} or higher")
    return user


def authorize(session: Session, *, actor: str, minimum: str, action: str, target: str = "") -> dict:
    """Check that `actor` (a user, never the CLI) has at least `minimum` for an action the store does not run
    itself (e.g. starting a training job) and audit it. Returns the user dict; PermissionDeniedError otherwise."""
    user = require_role(session, actor, minimum)
    audit(session, actor, action, target)
    return user_dict(user)


def audit(session: Session, actor: str | None, action: str, target: str = "", **details: Any) -> None:
    """Append an audit row in the caller's transaction."""
    session.add(AuditLog(actor=actor or CLI_ACTOR, action=action, target=target, details=details))


def _check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise StoreError(f"password: expected at least {MIN_PASSWORD} characters, got fewer")


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise StoreError(f"role: expected one of {', '.join(ROLES)}, got {role!r}")


def create_user(session: Session, *, actor: str | None, name: str, password: str, role: str) -> dict:
    """Add a user (admin only; `actor=None` is the CLI operator). Returns {"id", "name", "role", "created_at"}."""
    require_role(session, actor, "admin", allow_cli=True)
    _check_role(role)
    name = name.strip() if isinstance(name, str) else name
    if not isinstance(name, str) or not name or len(name) > 64:
        raise StoreError(f"name: expected 1-64 characters, got {name!r}")
    _check_password(password)
    if session.scalars(select(User.id).where(User.name == name)).first() is not None:
        raise StoreError(f"name: expected a new user name, got existing {name!r}")
    user = User(name=name, role=role, password_hash=_HASHER.hash(password))
    session.add(user)
    session.flush()
    audit(session, actor, "create_user", name, role=role)
    return user_dict(user)


def _audit_refusal(session: Session, name: str, refusal: throttle.Refusal, source: str) -> None:
    """One audit row for the first refusal of a lock; later ones are only counted (summarised when it ends)."""
    if refusal.refused == 1:
        details = {"scope": refusal.scope, "source": source, "seconds_left": round(refusal.seconds, 1), "refused": 1}
        audit(session, "anonymous", "login_locked", name[:255], **details)


def authenticate(session: Session, *, name: str, password: str, source: str = "") -> dict:
    """Check a name and password from client address `source`; returns user_dict() or raises AuthenticationError.

    The attempt is counted before the password is checked (db.throttle: per (account, source) and per source,
    atomically on both databases) and audited in the caller's transaction, so catch the error inside it (the record
    is then committed). A locked (account, source) or source is refused without a check, with the same answer for a
    real and an unknown name; other sources are not affected. A disabled user cannot log in."""
    user = session.scalars(select(User).where(User.name == name)).one_or_none()  # refuses NUL or over-long names
    source = str(source)[: throttle.SOURCE_LENGTH]
    attempt = throttle.count_attempt(session, name=name, source=source)
    if isinstance(attempt, throttle.Refusal):
        _audit_refusal(session, name, attempt, source)
        session.flush()
        raise AuthenticationError(f"{_LOCKED}{max(attempt.seconds, 1):.0f} s")
    for scope, n in attempt.ended_locks.items():
        target = name[:255] if scope == "account" else ""
        audit(session, "anonymous", "login_locked_summary", target, scope=scope, source=source, refused=n)
    try:
        _HASHER.verify(user.password_hash if user else _dummy_hash(), password)
        if user is None or user.disabled:
            raise VerificationError("disabled")
    except (VerificationError, InvalidHashError) as e:
        details = throttle.record_failure(session, attempt)
        audit(session, "anonymous", "login_failed", name[:255], **details)
        session.flush()
        raise AuthenticationError(_BAD_LOGIN) from e
    throttle.record_success(session, attempt)
    return user_dict(user)


def revoke_sessions(session: Session, user_id: int, reason: str) -> int:
    """End every open login session of the user (role or password change, disabled account); returns how many."""
    result = session.execute(
        update(LoginSession)
        .where(LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=utc_now(), revoked_reason=reason)
        .returning(LoginSession.id)
        .execution_options(synchronize_session=False)
    )
    return len(result.all())


def is_empty(session: Session) -> bool:
    """True while the database holds no user at all (a fresh install: nobody could log in yet)."""
    return session.scalars(select(User.id).limit(1)).first() is None


def list_users(session: Session, *, actor: str) -> list[dict]:
    """All users (admin only): [{"id", "name", "role", "disabled", "created_at"}] sorted by name."""
    require_role(session, actor, "admin")
    return [user_dict(u) for u in session.scalars(select(User).order_by(User.name))]


def _keep_an_admin(session: Session, user: User) -> None:
    """Refuse to demote or disable the last enabled admin."""
    if user.role == "admin" and not user.disabled:
        n_admins = session.scalar(
            select(func.count()).select_from(User).where(User.role == "admin", User.disabled.is_(False))
        )
        if n_admins <= 1:
            raise StoreError(f"user: expected another enabled admin to remain, got {user.name!r} as the last admin")


def set_role(session: Session, *, actor: str, name: str, role: str) -> dict:
    """Change a user's role (admin only) and end their open sessions (they log in again with the new role).
    Returns the user dict. The last enabled admin cannot be demoted."""
    require_role(session, actor, "admin")
    _check_role(role)
    user = get_user(session, name)
    if role != "admin":
        _keep_an_admin(session, user)
    old, user.role = user.role, role
    revoked = revoke_sessions(session, user.id, "role change") if old != role else 0
    audit(session, actor, "set_role", name, old=old, new=role, sessions_revoked=revoked)
    return user_dict(user)


def set_disabled(session: Session, *, actor: str | None, name: str, disabled: bool) -> dict:
    """Disable (no login, no store call, open sessions ended) or enable a user (admin; `actor=None`: the CLI).
    The last enabled admin cannot be disabled. Returns the user dict."""
    require_role(session, actor, "admin", allow_cli=True)
    if not isinstance(disabled, bool):
        raise StoreError(f"disabled: expected true or false, got {disabled!r}")
    user = get_user(session, name)
    if disabled:
        _keep_an_admin(session, user)
    user.disabled = disabled
    revoked = revoke_sessions(session, user.id, "disabled") if disabled else 0
    if not disabled:
        throttle.clear_account(session, name)
    audit(session, actor, "disable_user" if disabled else "enable_user", name, sessions_revoked=revoked)
    return user_dict(user)


def change_password(
    session: Session, *, actor: str | None, name: str, new_password: str, old_password: str | None = None
) -> dict:
    """Set a user's password and end their open sessions. A user changes their own with `old_password`; an admin
    (or the CLI, `actor=None`) sets anyone's without it. Returns the user dict."""
    acting = require_role(session, actor, "viewer", allow_cli=True)
    user = get_user(session, name)
    if acting is not None and acting.id != user.id:
        require_role(session, actor, "admin")
    elif acting is not None:
        try:
            _HASHER.verify(user.password_hash, old_password or "")
        except (VerificationError, InvalidHashError) as e:
            raise AuthenticationError("old_password: expected the current password, got a wrong one") from e
    _check_password(new_password)
    user.password_hash = _HASHER.hash(new_password)
    throttle.clear_account(session, name)
    revoked = revoke_sessions(session, user.id, "password change")
    audit(session, actor, "change_password", name, sessions_revoked=revoked)
    return user_dict(user)


def list_audit(session: Session, *, actor: str, limit: int = 100) -> list[dict]:
    """Newest audit rows first (admin only): [{"id", "actor", "action", "target", "details", "created_at"}]."""
    require_role(session, actor, "admin")
    rows = session.scalars(select(AuditLog).order_by(AuditLog.id.desc()).limit(limit))
    return [
        {
            "id": r.id,
            "actor": r.actor,
            "action": r.action,
            "target": r.target,
            "details": r.details,
            "created_at": r.created_at,
        }
        for r in rows
    ]

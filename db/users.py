"""Users, roles, password hashes (argon2id via argon2-cffi) and the audit log; every store call's role check."""

import functools
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.errors import AuthenticationError, NotFoundError, PermissionDeniedError, StoreError
from db.models import AuditLog, User

ROLES = ("admin", "researcher", "annotator", "viewer")
# each role may do what the ones below it may; researcher: exports judgements and starts training runs
ROLE_RANK = {"viewer": 0, "annotator": 1, "researcher": 2, "admin": 3}
CLI_ACTOR = "cli"  # audit name of actor=None, the trusted local operator
# argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): a login stays well under 100 ms on a busy CPU.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
_BAD_LOGIN = "authentication failed: unknown user or wrong password"


@functools.cache
def _dummy_hash() -> str:
    """Hash verified against when the user does not exist, so both failures take the same time."""
    return _HASHER.hash("pal-studio-no-such-user")


def user_dict(user: User) -> dict:
    return {"id": user.id, "name": user.name, "role": user.role, "created_at": user.created_at}


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
    if not isinstance(password, str) or len(password) < 8:
        raise StoreError("password: expected at least 8 characters, got fewer")
    if session.scalars(select(User.id).where(User.name == name)).first() is not None:
        raise StoreError(f"name: expected a new user name, got existing {name!r}")
    user = User(name=name, role=role, password_hash=_HASHER.hash(password))
    session.add(user)
    session.flush()
    audit(session, actor, "create_user", name, role=role)
    return user_dict(user)


def authenticate(session: Session, *, name: str, password: str) -> dict:
    """Check a name and password; returns {"id", "name", "role", "created_at"} or raises AuthenticationError."""
    user = session.scalars(select(User).where(User.name == name)).one_or_none()
    try:
        _HASHER.verify(user.password_hash if user else _dummy_hash(), password)
    except (VerificationError, InvalidHashError) as e:
        raise AuthenticationError(_BAD_LOGIN) from e
    if user is None:
        raise AuthenticationError(_BAD_LOGIN)
    return user_dict(user)


def is_empty(session: Session) -> bool:
    """True while the database holds no user at all (a fresh install: nobody could log in yet)."""
    return session.scalars(select(User.id).limit(1)).first() is None


def list_users(session: Session, *, actor: str) -> list[dict]:
    """All users (admin only): [{"id", "name", "role", "created_at"}] sorted by name."""
    require_role(session, actor, "admin")
    return [user_dict(u) for u in session.scalars(select(User).order_by(User.name))]


def set_role(session: Session, *, actor: str, name: str, role: str) -> dict:
    """Change a user's role (admin only). Returns the user dict. The last admin cannot be demoted."""
    require_role(session, actor, "admin")
    _check_role(role)
    user = get_user(session, name)
    if user.role == "admin" and role != "admin":
        n_admins = session.scalar(select(func.count()).select_from(User).where(User.role == "admin"))
        if n_admins <= 1:
            raise StoreError(f"role: expected another admin to remain, got {name!r} as the last admin")
    old, user.role = user.role, role
    audit(session, actor, "set_role", name, old=old, new=role)
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

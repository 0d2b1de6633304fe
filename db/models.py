"""SQLAlchemy 2.0 typed models of the annotation store. Judgements are append-only: an edit, undo or adjudication is
a new row whose `supersedes_id` points at the row it replaces; nothing is updated in place."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from db.columns import CheckedString, CheckedText, name_fields

# Constraint names for Alembic (docs: naming.rst), so migrations can drop/alter them by name on every backend.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utc_now() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """DateTime(timezone=True) that always hands back aware UTC values (SQLite stores no offset and returns naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None:
            value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(CheckedString(64), unique=True)
    role: Mapped[str] = mapped_column(CheckedString(16))  # db.users.ROLES: admin | researcher | annotator | viewer
    password_hash: Mapped[str] = mapped_column(CheckedString(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class LoginThrottle(Base):
    """Failed logins counted (db.throttle) per (account, source) (scope "account": `account` is the name typed,
    existing or not) and per source (scope "source", account ""), each with its own lock."""

    __tablename__ = "login_throttle"
    __table_args__ = (UniqueConstraint("scope", "account", "source"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(CheckedString(16))  # account | source
    account: Mapped[str] = mapped_column(CheckedString(64), default="")
    source: Mapped[str] = mapped_column(CheckedString(255), default="")  # the client's address
    failures: Mapped[int] = mapped_column(Integer, default=0)  # attempts counted since the last success
    refused: Mapped[int] = mapped_column(Integer, default=0)  # attempts refused during the current lock
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # no attempt from here before this
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginSession(Base):
    """A dashboard sign-in: the browser holds the token, the store only its SHA-256; valid until `expires_at` unless
    revoked (logout, role or password change, disabled user)."""

    __tablename__ = "login_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(CheckedString(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str] = mapped_column(CheckedString(32), default="")


class Project(Base):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(CheckedString(128), unique=True)
    guidelines: Mapped[str] = mapped_column(CheckedText, default="")
    questions: Mapped[list[Any]] = mapped_column(default=list)  # per-reply questions asked (db.projects.QUESTIONS)
    required_questions: Mapped[list[Any]] = mapped_column(default=list)  # of those, the ones Submit insists on
    annotators_per_item: Mapped[int] = mapped_column(Integer, default=1)
    # the order the queue serves items in (db.queue_order.QUEUE_ORDERS): as_imported | random | most_informative
    queue_order: Mapped[str] = mapped_column(CheckedString(16), default="as_imported", server_default="as_imported")
    gold_settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    system_names: Mapped[list[Any]] = mapped_column(default=list)
    created_by: Mapped[str] = mapped_column(CheckedString(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class Dialogue(Base):
    __tablename__ = "dialogues"
    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(CheckedString(255), unique=True)  # outputs.jsonl `id`
    persona: Mapped[list[Any]]
    partner_persona: Mapped[list[Any]] = mapped_column(default=list)
    history: Mapped[list[Any]]
    reference: Mapped[str] = mapped_column(CheckedText, default="")
    gold_label: Mapped[list[Any] | None]
    source: Mapped[str] = mapped_column(CheckedString(255), default="")
    split: Mapped[str] = mapped_column(CheckedString(32), default="")


class System(Base):
    __tablename__ = "systems"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(CheckedString(128), unique=True)
    model: Mapped[str] = mapped_column(CheckedString(255), default="")
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    run_dir: Mapped[str] = mapped_column(CheckedString(1024), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # off the pages' run lists


class Response(Base):
    __tablename__ = "responses"
    __table_args__ = (UniqueConstraint("dialogue_id", "system_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    dialogue_id: Mapped[int] = mapped_column(ForeignKey("dialogues.id"), index=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id"), index=True)
    text: Mapped[str] = mapped_column(CheckedText)
    selected_index: Mapped[int | None]
    selected_sentence: Mapped[str | None] = mapped_column(CheckedText)
    scores: Mapped[list[Any] | None]
    contradiction: Mapped[list[Any] | None]
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)  # `metadata` is reserved on Base
    dialogue: Mapped[Dialogue] = relationship()
    system: Mapped[System] = relationship()


class Comparison(Base):
    __tablename__ = "comparisons"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    dialogue_id: Mapped[int] = mapped_column(ForeignKey("dialogues.id"))
    response_a_id: Mapped[int] = mapped_column(ForeignKey("responses.id"))  # shown on the left, after the shuffle
    response_b_id: Mapped[int] = mapped_column(ForeignKey("responses.id"))
    position: Mapped[int] = mapped_column(Integer)  # stored random order in which items are served
    is_gold: Mapped[bool] = mapped_column(Boolean, default=False)
    gold_answer: Mapped[str | None] = mapped_column(CheckedString(16))  # A | B | tie | both_bad
    project: Mapped[Project] = relationship()
    dialogue: Mapped[Dialogue] = relationship()
    response_a: Mapped[Response] = relationship(foreign_keys=[response_a_id])
    response_b: Mapped[Response] = relationship(foreign_keys=[response_b_id])


class Assignment(Base):
    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("user_id", "comparison_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    comparison_id: Mapped[int] = mapped_column(ForeignKey("comparisons.id"), index=True)
    status: Mapped[str] = mapped_column(CheckedString(16), default="assigned")  # assigned | skipped | done
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class Judgement(Base):
    __tablename__ = "judgements"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    comparison_id: Mapped[int] = mapped_column(ForeignKey("comparisons.id"), index=True)
    kind: Mapped[str] = mapped_column(CheckedString(16), default="judgement")  # judgement | undo | adjudication
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("judgements.id"), index=True)
    preference: Mapped[str | None] = mapped_column(CheckedString(16))  # A | B | tie | both_bad; None on undo rows
    # Every per-reply answer is NULL when the annotator left it unanswered (never a default value).
    consistency_a: Mapped[int | None]
    consistency_b: Mapped[int | None]
    persona_used_a: Mapped[int | None]  # 0-based persona index, -1 = none
    persona_used_b: Mapped[int | None]
    contradiction_a: Mapped[bool | None]
    contradiction_b: Mapped[bool | None]
    fluency_a: Mapped[int | None]
    fluency_b: Mapped[int | None]
    engagingness_a: Mapped[int | None]
    engagingness_b: Mapped[int | None]
    sides_swapped: Mapped[bool | None]  # True: response B was shown on the left to this annotator; None: not recorded
    reason: Mapped[str] = mapped_column(CheckedText, default="")
    seconds: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class AuditLog(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(CheckedString(64))
    action: Mapped[str] = mapped_column(CheckedString(64))
    target: Mapped[str] = mapped_column(CheckedString(255), default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


name_fields(Base.metadata)  # every checked column's errors name it as table.column

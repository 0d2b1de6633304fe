"""Column types that check text before the database sees it, so SQLite and PostgreSQL refuse the same values with
the same StoreError: no NUL character anywhere (PostgreSQL cannot store one, SQLite would), and a String(n) column
no longer than n characters (PostgreSQL raises, SQLite silently stores more). The check runs on every bound value,
an INSERT's or a WHERE's alike, so even a lookup by an impossible name fails cleanly."""

from sqlalchemy import String, Text, TypeDecorator
from sqlalchemy.exc import DontWrapMixin

from db.errors import StoreError


class TextValueError(StoreError, DontWrapMixin):
    """A text value no column can hold (raised while binding a statement; SQLAlchemy passes it through unwrapped)."""


def check_text(field: str, value: str, length: int | None = None) -> str:
    """`value` if it fits `field` (a "table.column" name); TextValueError naming the field otherwise."""
    if "\x00" in value:
        raise TextValueError(f"{field}: expected text without NUL characters (\\x00), got {value[:40]!r}")
    if length is not None and len(value) > length:
        raise TextValueError(f"{field}: expected at most {length} characters, got {len(value):,}")
    return value


class CheckedString(TypeDecorator):
    """String(length) with check_text() on every bound value; `field` is set to "table.column" by name_fields()."""

    impl = String
    cache_ok = True
    field = "text"

    def process_bind_param(self, value, dialect):
        return value if not isinstance(value, str) else check_text(self.field, value, self.impl.length)


class CheckedText(CheckedString):
    """Text (unbounded) with the NUL check."""

    impl = Text
    cache_ok = True


def name_fields(metadata) -> None:
    """Give every checked column type its "table.column" name, for the error messages."""
    for table in metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, CheckedString):
                column.type.field = f"{table.name}.{column.name}"

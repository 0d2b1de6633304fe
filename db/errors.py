"""Errors the store raises on bad input; the UI shows `str(e)`, the CLI prints `error: ...` and exits 2."""

from formats import FormatError


class StoreError(ValueError):
    """Base of every error `db` raises on bad input or a refused action."""


class NotFoundError(StoreError):
    """A user, project, system or item named by the caller does not exist."""


class PermissionDeniedError(StoreError):
    """The acting user's role does not allow the call (admin: all; annotator: annotate and read; viewer: read)."""


class AuthenticationError(StoreError):
    """Wrong user name or password; the message never says which."""


class ImportFormatError(StoreError, FormatError):
    """A run directory or responses file is malformed: the message names file:line and the field."""


class DatabaseBusyError(StoreError):
    """SQLite stayed locked by another writer past the busy timeout (and the retries): try again."""

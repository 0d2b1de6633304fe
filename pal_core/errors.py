"""The error types library code raises; only the edges (CLI, pages) catch them."""

from formats import FormatError


class PalError(ValueError):
    """Base of every error PAL Studio raises on bad input."""


class DataFormatError(PalError, FormatError):
    """A data file or record is malformed: the message names file:line (or record index), field and expectation."""


class ConfigError(PalError):
    """A config field has a bad value: the message names Class.field and the value."""


class ModelNotFoundError(PalError):
    """A model could not be found offline: the message names what was tried."""


class UnknownNameError(PalError):
    """A registry lookup failed: the message lists the known names."""

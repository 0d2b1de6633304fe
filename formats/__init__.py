"""File formats and shared vocabularies, one definition each: the strict JSON decoder (jsontext.py), the gzip-sniffing
line reader and the atomic writer (textio.py), the run directory (rows.py: one outputs.jsonl row; runs.py: read_run /
write_run) and the vocabularies of roles, pages, preferences and questions (vocab.py).

A leaf package: it imports the standard library only, so db/, pal_core/ and ui/ all import it. Readers raise
FormatError, or the subclass a caller passes as `error=` (pal_core's DataFormatError, db's ImportFormatError)."""

from formats.jsontext import MAX_DEPTH, FormatError, UnstorableValueError, brief, check_storable, parse_json
from formats.rows import OutputRow
from formats.runs import CONFIG_FILE, METRICS_FILE, OUTPUTS_FILE, Run, read_outputs, read_run, write_json, write_run
from formats.textio import (
    iter_json_lines,
    iter_json_list,
    iter_lines,
    open_text,
    open_write,
    read_json,
    read_json_object,
)

__all__ = [
    "CONFIG_FILE",
    "MAX_DEPTH",
    "METRICS_FILE",
    "OUTPUTS_FILE",
    "FormatError",
    "OutputRow",
    "Run",
    "UnstorableValueError",
    "brief",
    "check_storable",
    "iter_json_lines",
    "iter_json_list",
    "iter_lines",
    "open_text",
    "open_write",
    "parse_json",
    "read_json",
    "read_json_object",
    "read_outputs",
    "read_run",
    "write_json",
    "write_run",
]

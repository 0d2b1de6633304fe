"""Dialogue data: the `Example`/`Dialogue` types (examples.py), one streaming reader per file format (readers.py) and
the loaders/writers everything else calls (loaders.py). The strict text layer under them (gzip-sniffing line reader,
strict JSON, atomic writer) is the top-level `formats` package; `open_text`, `open_write` and `iter_json_lines` here
are its functions raising DataFormatError.

Imports: formats and pal_core.errors only (no torch, no transformers). The names below are the package's public
API."""

from pal_core.data.examples import Dialogue, Example, check_label
from pal_core.data.loaders import (
    DEMO_DIR,
    FORMATS,
    WRITE_FORMATS,
    DataStats,
    compute_stats,
    demo_examples_path,
    demo_runs_dir,
    example_to_dict,
    group_dialogues,
    guess_format,
    iter_examples,
    iter_json_lines,
    load_dialogues,
    load_examples,
    open_text,
    open_write,
    write_examples,
)

__all__ = [
    "DEMO_DIR",
    "FORMATS",
    "WRITE_FORMATS",
    "DataStats",
    "Dialogue",
    "Example",
    "check_label",
    "compute_stats",
    "demo_examples_path",
    "demo_runs_dir",
    "example_to_dict",
    "group_dialogues",
    "guess_format",
    "iter_examples",
    "iter_json_lines",
    "load_dialogues",
    "load_examples",
    "open_text",
    "open_write",
    "write_examples",
]

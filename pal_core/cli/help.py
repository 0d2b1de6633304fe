"""`pal <cmd> --help`: every field of a command's config dataclasses with its type, default and help text.

Our config dataclasses live in torch-free modules (pal_core/inference/config.py, training/config.py, judge/config.py,
cli/judge.py), so their fields are read with `dataclasses.fields` after a cheap import. TRL's `SFTConfig` and
`DPOConfig` live in modules that import torch; their fields are listed from `library_fields.json`, a table generated
from the installed TRL by `python -m pal_core.cli.help` and checked against it by tests/pal_core/test_cli_config.py
(so a TRL upgrade that changes a field fails that test until the table is regenerated). Parsing the flags, with the
real TRL classes, is `config.py`.
"""

import dataclasses
import importlib
import json
import sys
import textwrap
from dataclasses import dataclass
from functools import cache
from pathlib import Path

LIBRARY_TABLE = Path(__file__).with_name("library_fields.json")
LIBRARY_CLASSES = ("trl.trainer.sft_config:SFTConfig", "trl.trainer.dpo_config:DPOConfig")


@dataclass(frozen=True)
class FieldDoc:
    name: str
    type: str
    default: str
    help: str


def load(ref: str) -> object:
    """The object a "module:name" reference names (imports the module)."""
    module, name = ref.split(":")
    return getattr(importlib.import_module(module), name)


def _type_text(annotation: object) -> str:
    if isinstance(annotation, str):
        return annotation
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def _default_text(f: dataclasses.Field) -> str:
    if f.default is not dataclasses.MISSING:
        return repr(f.default)
    if f.default_factory is not dataclasses.MISSING:
        return repr(f.default_factory())
    return "required"


def field_docs(cls: type) -> list[FieldDoc]:
    """The init fields of dataclass `cls` (bases first), each with its type, default and help text."""
    docs = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        text = " ".join(str(f.metadata.get("help", "")).split())
        if "choices" in f.metadata:
            text += f" (choices: {list(f.metadata['choices'])!r})"
        docs.append(FieldDoc(f.name, _type_text(f.type), _default_text(f), text))
    return docs


@cache
def _library_table() -> dict:
    return json.loads(LIBRARY_TABLE.read_text(encoding="utf-8"))


def library_fields(ref: str) -> list[FieldDoc]:
    """The fields of the library dataclass `ref` ("module:Class", one of LIBRARY_CLASSES) from the generated table."""
    return [FieldDoc(*row) for row in _library_table()["classes"][ref]]


def library_table() -> dict:
    """The table of LIBRARY_CLASSES' fields, built from the installed TRL (imports it, and so torch)."""
    import transformers
    import trl

    return {
        "generated_by": "python -m pal_core.cli.help",
        "trl": trl.__version__,
        "transformers": transformers.__version__,
        "classes": {ref: [list(dataclasses.astuple(d)) for d in field_docs(load(ref))] for ref in LIBRARY_CLASSES},
    }


def format_help(
    prog: str,
    summary: str,
    configs: tuple[str, ...],
    library: tuple[str, ...] = (),
    shown_defaults: dict | None = None,
    defaults_from: str | None = None,
) -> str:
    """argparse-style help listing every field of `configs` (torch-free "module:Class", imported) and `library`
    (listed from the table); `shown_defaults` are PAL's overrides of their defaults, made by `defaults_from`."""
    shown_defaults = shown_defaults or {}
    out = [f"usage: {prog} [--config FILE.yaml] [--<field> VALUE ...]", "", *textwrap.wrap(summary, 100), ""]
    out += _entry("--config FILE.yaml", "YAML file of `field: value` lines; flags given on the command line win.")
    out.append("  Flags are the field names below (`--max_steps 10`); a bool takes `--flag`, `--flag false` or")
    out.append("  `--no_flag` (when its default is true); a list takes several values (`--tasks select generate`).")
    sections = [(ref, field_docs(load(ref))) for ref in configs] + [(ref, library_fields(ref)) for ref in library]
    for ref, docs in sections:
        module, name = ref.split(":")
        out += ["", f"{name} ({module}):"]
        for doc in docs:
            if doc.name in shown_defaults:
                default = f"PAL default: {shown_defaults[doc.name]!r}"
            else:
                default = f"default: {doc.default}"
            out += _entry(f"--{doc.name} {doc.type}", f"{doc.help} ({default})".strip())
    if defaults_from:
        out += ["", f"PAL defaults come from {defaults_from.replace(':', '.')}() (bf16 / fp16 by device)."]
    return "\n".join(out)


def _entry(flag: str, text: str) -> list[str]:
    lines = textwrap.wrap(text, width=88, initial_indent=" " * 8, subsequent_indent=" " * 8) or [""]
    return [f"  {flag}", *lines]


if __name__ == "__main__":  # regenerate the table after a TRL upgrade
    LIBRARY_TABLE.write_text(json.dumps(library_table(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    sys.stdout.write(f"wrote {LIBRARY_TABLE}\n")

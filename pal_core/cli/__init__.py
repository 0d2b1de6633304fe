"""The `pal` command line: app.py builds the command tree and imports only the modules a command needs; one module
per area (data.py, engine.py, judge.py, train.py, store.py); config.py reads flags and YAML into config dataclasses;
help.py answers `--help` without importing torch.

Imports: everything in pal_core, and db (store.py only); torch-heavy modules only inside the commands that run."""

from pal_core.cli.app import main

__all__ = ["main"]

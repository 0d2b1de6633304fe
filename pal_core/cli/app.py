"""The `pal` command line. Each area keeps its commands in its own `pal_core/cli/<area>.py` with a `register()` hook."""

import importlib
import logging
import sys

import typer

from pal_core.errors import PalError

COMMAND_MODULES = ("data", "engine", "judge", "train", "store", "report")
# Top-level command -> the modules that define it. Importing only those keeps `pal data stats` free of the
# seconds-long torch/transformers/trl imports the training and evaluation commands need.
MODULES_BY_COMMAND = {
    "data": ("data",),
    "select": ("engine",),
    "generate": ("engine",),
    "evaluate": ("engine",),
    "compare": ("engine",),
    "rescore": ("engine",),
    "label": ("judge",),
    "train": ("judge", "train"),
    "sample-rejected": ("train",),
    "db": ("store",),
    "user": ("store",),
    "import-run": ("store",),
    "export": ("store",),
    "import-judgements": ("store",),
    "demo": ("store",),
    "report": ("report",),
}


def group(help: str) -> typer.Typer:
    """A command group (`pal data`, `pal train`, ...). Plain-text help and usage errors (rich_markup_mode=None):
    short, greppable, and without importing rich."""
    return typer.Typer(
        help=help, no_args_is_help=True, rich_markup_mode=None, pretty_exceptions_enable=False, add_completion=False
    )


def build_app(command: str | None = None) -> typer.Typer:
    """The command tree: `pal data ...`, `pal evaluate`, `pal train sft|dpo|consistency`, `pal user ...`.

    With `command` given (the first word of the command line), only the modules defining it are imported."""
    app = group("PAL Studio: persona-consistent dialogue tools.")
    train_app = group("Train models (stage-1 SFT, stage-2 DPO, consistency classifier).")
    app.add_typer(train_app, name="train")
    for name in MODULES_BY_COMMAND.get(command or "", COMMAND_MODULES):
        importlib.import_module(f"pal_core.cli.{name}").register(app, train_app)
    return app


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `pal` console script; returns the exit status (2 on bad input or bad usage).

    Typer runs in standalone mode, so its own usage errors (unknown flag, missing argument) print a short message
    and exit 2 whichever `click` it bundles; our errors (PalError, and the store's StoreError) print `error: ...`."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        build_app(args[0] if args else None)(args=args, prog_name="pal", standalone_mode=True)
    except PalError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

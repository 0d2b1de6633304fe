"""The `pal` command line. Each area keeps its commands in its own `cli_<area>.py` with a `register()` hook."""

import importlib
import logging
import sys

import click
import typer

from pal_core.errors import PalError

COMMAND_MODULES = ("cli_data", "cli_engine", "cli_consistency", "cli_train", "cli_db")
# Top-level command -> the modules that define it. Importing only those keeps `pal data stats` free of the
# seconds-long torch/transformers/trl imports the training and evaluation commands need.
MODULES_BY_COMMAND = {
    "data": ("cli_data",),
    "select": ("cli_engine",),
    "generate": ("cli_engine",),
    "evaluate": ("cli_engine",),
    "compare": ("cli_engine",),
    "rescore": ("cli_engine",),
    "label": ("cli_consistency",),
    "train": ("cli_consistency", "cli_train"),
    "sample-rejected": ("cli_train",),
    "db": ("cli_db",),
    "user": ("cli_db",),
    "import-run": ("cli_db",),
    "export": ("cli_db",),
    "demo": ("cli_db",),
}


def build_app(command: str | None = None) -> typer.Typer:
    """The command tree: `pal data ...`, `pal evaluate`, `pal train sft|dpo|consistency`, `pal user ...`.

    With `command` given (the first word of the command line), only the modules defining it are imported."""
    app = typer.Typer(
        help="PAL Studio: persona-consistent dialogue tools.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    train_app = typer.Typer(
        help="Train models (stage-1 SFT, stage-2 DPO, consistency classifier).", no_args_is_help=True
    )
    app.add_typer(train_app, name="train")
    for name in MODULES_BY_COMMAND.get(command or "", COMMAND_MODULES):
        importlib.import_module(f"pal_core.{name}").register(app, train_app)
    return app


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `pal` console script; returns the exit status (2 on bad input)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        result = build_app(args[0] if args else None)(args=args, prog_name="pal", standalone_mode=False)
    except PalError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except click.exceptions.Abort:
        print("aborted", file=sys.stderr)
        return 1
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())

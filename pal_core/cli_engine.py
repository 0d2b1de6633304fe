"""`pal` commands for the engine: `select`, `generate`, `evaluate`, `compare`, `rescore`.

Flags are the fields of `EvalConfig` (e.g. `--system`, `--swap-persona`), parsed by HfArgumentParser so they are
never written out twice.
"""

import logging
from pathlib import Path
from typing import Annotated

import typer
from transformers import HfArgumentParser

from pal_core.errors import ConfigError
from pal_core.experiments import (
    EvalConfig,
    compare_runs,
    rescore_run,
    run_evaluation,
    run_generation,
    run_selection,
)

logger = logging.getLogger(__name__)

# Typer hands every argument to the command untouched; HfArgumentParser reads them (and prints --help).
_PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}


def parse_eval_config(args: list[str], prog: str) -> EvalConfig:
    """EvalConfig from command-line flags; argparse errors and --help end the command with their exit code."""
    parser = HfArgumentParser(EvalConfig, prog=prog)
    try:
        cfg, unknown = parser.parse_args_into_dataclasses(args=args, return_remaining_strings=True)
    except SystemExit as e:
        raise typer.Exit(e.code or 0) from None
    if unknown:
        raise ConfigError(f"{prog}: expected EvalConfig flags (see --help), got unknown arguments {unknown}")
    return cfg


def register(app: typer.Typer, train_app: typer.Typer) -> None:
    """Add this area's commands to the top-level app and the `pal train` group."""

    @app.command(context_settings=_PASS_THROUGH)
    def evaluate(ctx: typer.Context) -> None:
        """Run a system on a data file and write a run directory with outputs and metrics (flags: --help)."""
        run_dir = run_evaluation(parse_eval_config(ctx.args, "pal evaluate"))
        print((run_dir / "summary.md").read_text())
        print(f"run directory: {run_dir}")

    @app.command(context_settings=_PASS_THROUGH)
    def generate(ctx: typer.Context) -> None:
        """Like evaluate, without metrics: write config.json and outputs.jsonl (flags: --help)."""
        run_dir, rows, _ = run_generation(parse_eval_config(ctx.args, "pal generate"))
        print(f"wrote {len(rows)} responses to {run_dir / 'outputs.jsonl'}")

    @app.command(context_settings=_PASS_THROUGH)
    def select(ctx: typer.Context) -> None:
        """Run a persona selector (--selector) on a data file; write <output_dir>/selections.jsonl (flags: --help)."""
        path = run_selection(parse_eval_config(ctx.args, "pal select"))
        print(f"wrote selections to {path}")

    @app.command()
    def compare(
        runs: Annotated[list[Path], typer.Argument(help="Run directories written by `pal evaluate`.")],
    ) -> None:
        """Print a Markdown table of the runs' metrics."""
        print(compare_runs(runs))

    @app.command()
    def rescore(
        runs: Annotated[list[Path], typer.Argument(help="Run directories written by `pal evaluate`.")],
        consistency_model: Annotated[
            str | None,
            typer.Option(help="Consistency model directory; default: the one `pal train consistency` saved."),
        ] = None,
    ) -> None:
        """Recompute the runs' metrics from their outputs (no generation), e.g. with a retrained consistency model."""
        for run in runs:
            rescore_run(run, consistency_model)
        print(compare_runs(runs))

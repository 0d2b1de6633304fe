"""`pal` commands for the engine: `select`, `generate`, `evaluate`, `compare`, `rescore`.

select/generate/evaluate take the fields of EvalConfig as flags (`--system`, `--swap_persona`, or a YAML file via
`--config`), parsed like every long-running command (pal_core/cli/config.py). torch and the engine modules are
imported only when a command runs, so `--help` is instant.
"""

from pathlib import Path
from typing import Annotated

import typer

from pal_core.cli.config import ConfigSpec, config_command

EVAL = ConfigSpec(("pal_core.inference.config:EvalConfig",))
RunsArgument = Annotated[list[Path], typer.Argument(help="Run directories written by `pal evaluate`.")]


def evaluate(cfg, command: str) -> None:
    from pal_core.inference import distributed
    from pal_core.inference.experiments import run_evaluation

    run_dir = run_evaluation(cfg, command)
    if distributed.is_main_process():  # under `accelerate launch` the main process alone wrote the run
        print((run_dir / "summary.md").read_text())
        print(f"run directory: {run_dir}")


def generate(cfg, command: str) -> None:
    from pal_core.inference.experiments import run_generation

    run_dir, rows, _ = run_generation(cfg, command)
    print(f"wrote {len(rows)} responses to {run_dir / 'outputs.jsonl'}")


def select(cfg) -> None:
    from pal_core.inference.experiments import run_selection

    print(f"wrote selections to {run_selection(cfg)}")


def compare(runs: RunsArgument) -> None:
    """Print a Markdown table of the runs' metrics."""
    from pal_core.analysis.scoring import compare_runs

    print(compare_runs(runs))


def rescore(
    runs: RunsArgument,
    consistency_model: Annotated[
        str | None,
        typer.Option(
            "--consistency_model", help="Consistency model directory; default: the one `pal train consistency` saved."
        ),
    ] = None,
    device: Annotated[
        str | None, typer.Option("--device", help="cpu, cuda or cuda:N; default cuda if available.")
    ] = None,
) -> None:
    """Recompute the runs' metrics from their outputs (no generation), e.g. with a retrained consistency model."""
    from pal_core.analysis.scoring import compare_runs, rescore_run

    for run in runs:
        rescore_run(run, consistency_model, device)
    print(compare_runs(runs))


def register(app: typer.Typer, train_app: typer.Typer) -> None:
    """Add this area's commands to the top-level app and the `pal train` group."""
    config_command(
        app, "evaluate", EVAL, evaluate, "Run a system on a data file; write a run directory with outputs and metrics."
    )
    config_command(
        app, "generate", EVAL, generate, "Like evaluate, without metrics: write config.json and outputs.jsonl."
    )
    config_command(
        app, "select", EVAL, select, "Run a persona selector (--selector) on a data file; write selections.jsonl."
    )
    app.command()(compare)
    app.command()(rescore)

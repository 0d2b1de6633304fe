"""`pal report RUN... --system NAME --baseline NAME --out report.html`: one comparison as a self-contained HTML file
(pal_core.analysis.report builds it, report_html draws it). Each run is named by its folder; with `--project`, the
human Bradley-Terry leaderboard of that project in the annotation store is included (the CLI operator holds the
database, as for `pal export`)."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from pal_core.errors import ConfigError, DataFormatError


def _load_runs(run_dirs: list[Path]) -> dict[str, dict]:
    from formats.runs import read_run  # the one run-directory reader

    runs = {}
    for path in run_dirs:
        if path.name in runs:
            raise ConfigError(f"report: expected run folders with different names, got {path.name!r} twice")
        run = read_run(path, error=DataFormatError)
        runs[path.name] = {"config": run.config, "metrics": run.metrics, "rows": [r.to_dict() for r in run.rows]}
    return runs


def _outcomes(url: str | None, project: int) -> list[dict]:
    from db import store
    from db.session import default_db_url, make_session_factory

    with make_session_factory(url or default_db_url()).begin() as session:
        return store.outcome_counts(session, actor=None, project_id=project)


def report(
    run_dirs: Annotated[list[Path], typer.Argument(help="Run directories (pal evaluate output), named by folder.")],
    system: Annotated[str, typer.Option("--system", help="The run folder name of the system the story is about.")],
    baseline: Annotated[str, typer.Option("--baseline", help="The run folder name it is compared against.")],
    out: Annotated[Path, typer.Option("--out", help="The HTML file to write.")] = Path("report.html"),
    project: Annotated[int | None, typer.Option("--project", help="Include this project's human leaderboard.")] = None,
    url: Annotated[
        str | None, typer.Option("--url", help="SQLAlchemy URL of the store (default: PAL_DB_URL).")
    ] = None,
) -> None:
    """Write one system-vs-baseline comparison as a single HTML file that opens offline."""
    from pal_core.analysis.report import build_report
    from pal_core.analysis.report_html import render_html
    from pal_core.data import open_write

    outcomes = None
    if project is not None:
        from db.errors import StoreError

        try:
            outcomes = _outcomes(url, project)
        except StoreError as e:
            print(f"error: {e}", file=sys.stderr)
            raise typer.Exit(code=2) from None
    built = build_report(_load_runs(run_dirs), system=system, baseline=baseline, outcomes=outcomes)
    with open_write(out) as f:
        f.write(render_html(built))
    print(f"wrote {out} ({system} vs {baseline}, {built['n_turns']} turns)")


def register(app: typer.Typer, train_app: typer.Typer) -> None:
    """Add `pal report` to the top-level app."""
    app.command("report")(report)

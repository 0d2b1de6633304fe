"""`pal data stats` and `pal data convert`: look at a dialogue file, or rewrite it as PAL JSON / JSONL."""

from pathlib import Path
from typing import Annotated

import typer
from tqdm import tqdm

from pal_core import data
from pal_core.cli.app import group
from pal_core.errors import ConfigError, DataFormatError

# Flags are spelled as in the config dataclasses of the other commands: the parameter name, underscores kept.
_FMT_HELP = f"Input format, one of {', '.join(data.FORMATS)}; guessed from the name or content if unset."
FmtOption = Annotated[str | None, typer.Option("--fmt", help=_FMT_HELP)]
FmtInOption = Annotated[str | None, typer.Option("--fmt_in", help=_FMT_HELP)]
WindowOption = Annotated[
    int, typer.Option("--history_window", help="Keep the last N history utterances (both speakers) per example.")
]


def _read(path: Path, fmt: str | None, history_window: int) -> list[data.Example]:
    """Read with a progress bar on stderr (shown only on a terminal)."""
    stream = data.iter_examples(path, history_window=history_window, fmt=fmt)
    return list(tqdm(stream, desc=f"reading {path.name}", unit=" ex", disable=None, leave=False))


def _percent(count: int, total: int) -> str:
    return f"{count:,} ({100 * count / max(total, 1):.1f}%)"


def format_stats(stats: data.DataStats) -> list[str]:
    """The lines `pal data stats` prints."""
    n = stats.n_examples
    sizes = ", ".join(f"{k}: {v:,}" for k, v in sorted(stats.persona_sizes.items()))
    lines = [
        f"examples: {n:,}",
        f"dialogues: {stats.n_dialogues:,}",
        f"persona sentences per example: {sizes}",
    ]
    if any(k for k in stats.partner_persona_sizes):
        partner = ", ".join(f"{k}: {v:,}" for k, v in sorted(stats.partner_persona_sizes.items()))
        lines.append(f"partner persona sentences per example: {partner}")
    labelled = n - stats.n_unlabelled
    lines += [f"labelled: {_percent(labelled, n)}", f"unlabelled: {_percent(stats.n_unlabelled, n)}"]
    if labelled:
        lines.append(f"  none [-1]: {_percent(stats.label_sizes.get(0, 0), labelled)}")
        for k in sorted(k for k in stats.label_sizes if k):
            lines.append(f"  {k} sentence{'s' if k > 1 else ''}: {_percent(stats.label_sizes[k], labelled)}")
        per_index = ", ".join(f"{i}: {c:,}" for i, c in sorted(stats.index_counts.items()))
        lines.append(f"  uses of each persona index: {per_index or '-'}")
    lines += [
        f"history utterances per example (mean): {stats.mean_history_utterances:.2f}",
        f"history words per example (mean): {stats.mean_history_words:.2f}",
        f"response words (mean): {stats.mean_response_words:.2f}",
    ]
    return lines


def stats(
    path: Annotated[Path, typer.Argument(help="ParlAI text, PAL JSON, JSONL or RCDG file (.gz too).")],
    fmt: FmtOption = None,
    history_window: WindowOption = 3,
) -> None:
    """Count examples, dialogues, persona sizes and persona labels of a dialogue file."""
    fmt = fmt or data.guess_format(path)
    result = data.compute_stats(_read(path, fmt, history_window))
    print(f"file: {path} (format: {fmt}, history window: {history_window})")
    for line in format_stats(result):
        print(line)


def convert(
    src: Annotated[Path, typer.Argument(help="Input file (ParlAI text, PAL JSON, JSONL or RCDG; .gz too).")],
    dst: Annotated[Path, typer.Argument(help="Output file; a .gz name is gzipped.")],
    fmt_in: FmtInOption = None,
    fmt_out: Annotated[
        str | None,
        typer.Option("--fmt_out", help="Output format, pal or jsonl; from the output name (.json -> pal) if unset."),
    ] = None,
    history_window: WindowOption = 3,
    limit: Annotated[int | None, typer.Option("--limit", help="Write only the first N examples (N >= 1).")] = None,
) -> None:
    """Rewrite a dialogue file as PAL JSON or our JSONL (unlabelled examples get a null persona_label in PAL)."""
    if fmt_out is None:
        name = dst.name.removesuffix(".gz")
        fmt_out = "jsonl" if name.endswith(".jsonl") else "pal" if name.endswith(".json") else None
        if fmt_out is None:
            raise DataFormatError(
                f"{dst}: expected an output name ending in .json or .jsonl (or pass --fmt_out), got {dst.name!r}"
            )
    if limit is not None and limit < 1:
        raise ConfigError(f"pal data convert: expected --limit >= 1, got {limit}")
    examples = _read(src, fmt_in, history_window)[:limit]
    data.write_examples(examples, dst, fmt=fmt_out)
    print(f"wrote {len(examples):,} examples to {dst} ({fmt_out})")


def register(app: typer.Typer, train_app: typer.Typer) -> None:
    """Add the `pal data` group (stats, convert) to the top-level app."""
    data_app = group("Inspect and convert dialogue data files.")
    data_app.command("stats")(stats)
    data_app.command("convert")(convert)
    app.add_typer(data_app, name="data")

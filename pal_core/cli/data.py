"""`pal data stats`, `pal data convert` and `pal data split`: look at a dialogue file, rewrite it as PAL JSON / JSONL,
or hold out whole persona groups of it as a development set."""

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


def _write_format(path: Path, hint: str = "") -> str:
    """pal for a .json[.gz] name, jsonl for .jsonl[.gz]."""
    name = path.name.removesuffix(".gz")
    if name.endswith(".jsonl"):
        return "jsonl"
    if name.endswith(".json"):
        return "pal"
    raise DataFormatError(f"{path}: expected an output name ending in .json or .jsonl{hint}, got {path.name!r}")


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
    fmt_out = fmt_out or _write_format(dst, hint=" (or pass --fmt_out)")
    if limit is not None and limit < 1:
        raise ConfigError(f"pal data convert: expected --limit >= 1, got {limit}")
    examples = _read(src, fmt_in, history_window)[:limit]
    data.write_examples(examples, dst, fmt=fmt_out)
    print(f"wrote {len(examples):,} examples to {dst} ({fmt_out})")


def split(
    src: Annotated[Path, typer.Argument(help="Input file (ParlAI text, PAL JSON, JSONL or RCDG; .gz too).")],
    train_out: Annotated[Path, typer.Option("--train_out", help="Where the train side goes (.json / .jsonl, .gz).")],
    dev_out: Annotated[Path, typer.Option("--dev_out", help="Where the dev side goes (.json / .jsonl, .gz).")],
    dev_turns: Annotated[
        int, typer.Option("--dev_turns", help="Hold out whole persona groups until dev has at least this many turns.")
    ] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the persona groups' shuffle.")] = 0,
    fmt_in: FmtInOption = None,
    history_window: WindowOption = 3,
) -> None:
    """Hold out whole persona groups (no persona set on both sides, no dialogue cut) as a development set."""
    from pal_core.data.split import persona_key, split_by_persona

    formats = [(train_out, _write_format(train_out)), (dev_out, _write_format(dev_out))]
    train, dev = split_by_persona(_read(src, fmt_in, history_window), dev_turns=dev_turns, seed=seed)
    for examples, (path, fmt) in zip((train, dev), formats, strict=True):
        data.write_examples(examples, path, fmt=fmt)
        personas = len({persona_key(e.persona) for e in examples})
        print(f"wrote {len(examples):,} turns ({personas:,} persona sets) to {path}")


def register(app: typer.Typer, train_app: typer.Typer) -> None:
    """Add the `pal data` group (stats, convert, split) to the top-level app."""
    data_app = group("Inspect and convert dialogue data files.")
    data_app.command("stats")(stats)
    data_app.command("convert")(convert)
    data_app.command("split")(split)
    app.add_typer(data_app, name="data")

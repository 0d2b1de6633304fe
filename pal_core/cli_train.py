"""`pal train sft`, `pal train dpo` and `pal sample-rejected`.

Flags are the dataclass field names (ours + TRL's SFTConfig/DPOConfig, or GenerationConfig), parsed by TRL's
`TrlParser`; `--config file.yaml` sets any of them (keys = field names) and flags given on the line win over it.
"""

import json
import sys
from collections.abc import Callable
from dataclasses import fields

import typer
from trl import DPOConfig, SFTConfig, TrlParser

from pal_core import train
from pal_core.errors import ConfigError
from pal_core.generate import GenerationConfig

# Typer hands every flag over untouched (its own --help too) so argparse can read them.
PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}


def parse_config(argv: list[str], types: tuple[type, ...], defaults: dict | None = None) -> tuple:
    """Dataclasses of `types` from flags and an optional `--config` YAML; unknown keys or flags raise ConfigError."""
    parser = TrlParser(types)
    if defaults:
        parser.set_defaults(**defaults)
    argv = list(argv)
    where = "command line"
    if "--config" in argv:
        i = argv.index("--config")
        if i + 1 >= len(argv):
            raise ConfigError("--config: expected a YAML file path, got nothing")
        where = argv[i + 1]
    try:
        *configs, from_file, from_flags = parser.parse_args_and_config(
            argv, return_remaining_strings=True, separate_remaining_strings=True
        )
    except SystemExit as e:  # argparse already printed the usage or the bad value
        raise typer.Exit(code=e.code or 0) from None
    except (ValueError, OSError) as e:
        if isinstance(e, ConfigError):
            raise
        raise ConfigError(f"{where}: expected a valid config, got {e}") from e
    known = sorted(f.name for t in types for f in fields(t))
    unknown_file = [s.lstrip("-") for s in from_file if s.startswith("--")]
    if unknown_file:
        raise ConfigError(
            f"{where}: expected keys among the fields of {', '.join(t.__name__ for t in types)}, "
            f"got unknown {unknown_file} (e.g. {', '.join(known[:5])}, ...)"
        )
    if from_flags:
        raise ConfigError(f"command line: expected flags named after config fields, got unknown {from_flags}")
    return tuple(configs)


def _emit(result: dict) -> None:
    shown = {k: v for k, v in result.items() if k != "log_history"}
    print(json.dumps(shown, indent=2, default=str), file=sys.stdout)


def _command(types: tuple[type, ...], defaults: Callable[[], dict] | None, run: Callable) -> Callable:
    def command(ctx: typer.Context) -> None:
        configs = parse_config(ctx.args, types, defaults() if defaults else None)
        _emit(run(*configs))

    return command


def register(app: typer.Typer, train_app: typer.Typer) -> None:
    """Add this area's commands to the top-level app and the `pal train` group."""
    train_app.command(
        "sft",
        context_settings=PASS_THROUGH,
        help="Stage 1: mixture SFT (select + generate); --tasks full_persona for the persona-in-prompt baseline. "
        "Flags: PalSftConfig + TRL SFTConfig fields (--help lists them).",
    )(_command((train.PalSftConfig, SFTConfig), train.sft_defaults, train.train_sft))
    train_app.command(
        "dpo",
        context_settings=PASS_THROUGH,
        help="Stage 2: sigmoid DPO on preference pairs, LoRA by default. "
        "Flags: PalDpoConfig + TRL DPOConfig fields (--help lists them).",
    )(_command((train.PalDpoConfig, DPOConfig), train.dpo_defaults, train.train_dpo))
    app.command(
        "sample-rejected",
        context_settings=PASS_THROUGH,
        help="Rejected sampling: persona-free replies of the stage-1 model -> preference JSONL. "
        "Flags: SampleRejectedConfig + GenerationConfig fields (--help lists them).",
    )(_command((train.SampleRejectedConfig, GenerationConfig), None, train.sample_rejected))

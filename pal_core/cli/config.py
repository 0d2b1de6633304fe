"""The one way long-running `pal` commands read their settings: config dataclasses filled from `--field_name value`
flags and an optional `--config file.yaml` (keys = field names; flags on the line win), by TRL's `TrlParser`.

`pal <cmd> --help` imports only our torch-free config modules and lists TRL's fields from a generated table
(`help.py`); TRL's classes are imported when a command runs.
"""

import difflib
import inspect
import shlex
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

import typer

from pal_core.cli.help import format_help, load
from pal_core.errors import ConfigError, PalError

# Typer hands every argument over untouched (its own --help too) so the dataclass parser reads them.
PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}


@dataclass(frozen=True)
class ConfigSpec:
    """The config dataclasses of one command, named "module:Class"."""

    configs: tuple[str, ...]  # ours, in torch-free modules: --help imports them
    library: tuple[str, ...] = ()  # TRL's (their modules import torch): --help lists them from help.LIBRARY_TABLE
    defaults: str | None = None  # "module:function" returning PAL's overrides of the dataclass defaults (run time)
    shown_defaults: str | None = None  # "module:NAME" of the torch-free dict of those overrides --help shows


def config_types(spec: ConfigSpec) -> tuple[type, ...]:
    return tuple(load(ref) for ref in (*spec.configs, *spec.library))


def parse_config(argv: list[str], types: tuple[type, ...], defaults: dict | None = None, prog: str = "pal") -> tuple:
    """Dataclasses of `types` from flags and an optional `--config` YAML; unknown keys or flags raise ConfigError,
    a bad value ends with argparse's one-line error after a one-line usage (not the list of every field)."""
    from trl import TrlParser  # imports transformers: only when a command runs

    parser = TrlParser(types, prog=prog, usage=f"{prog} [--config FILE.yaml] [--<field> VALUE ...] (see --help)")
    if defaults:
        parser.set_defaults(**defaults)
    argv = list(argv)
    known = {"--config", *(s for s in parser._option_string_actions if s.startswith("--"))}  # + aliases, --no_<bool>
    _check_flags(argv, known)
    where = "command line"
    if "--config" in argv:
        i = argv.index("--config")
        if i + 1 >= len(argv):
            raise ConfigError("--config: expected a YAML file path, got nothing")
        where = argv[i + 1]
        _check_yaml(Path(where), {f.name for t in types for f in fields(t)})
    try:
        *configs, from_file, from_flags = parser.parse_args_and_config(
            argv, return_remaining_strings=True, separate_remaining_strings=True
        )
    except SystemExit as e:  # argparse already printed the usage or the bad value
        raise typer.Exit(code=e.code or 0) from None
    except (ValueError, OSError) as e:
        if isinstance(e, PalError):  # a config's __post_init__ named the field already
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


def _check_flags(argv: list[str], known: set[str]) -> None:
    """Unknown flags are named before any config is built (a config's own checks would otherwise speak first)."""
    unknown = [a.split("=", 1)[0] for a in argv if a.startswith("--") and a.split("=", 1)[0] not in known]
    if unknown:
        spelled = ["--" + a[2:].replace("-", "_") for a in unknown]
        hints = [m for a in spelled for m in difflib.get_close_matches(a, known, 1, cutoff=0.75)]
        hint = f"; did you mean {', '.join(hints)}?" if hints else " (see --help)"
        raise ConfigError(f"command line: expected flags named after config fields, got unknown {unknown}{hint}")


def _check_yaml(path: Path, fields_: set[str]) -> None:
    """The --config file exists, parses, and has only field names as keys (errors name its line)."""
    import yaml

    if not path.is_file():
        raise ConfigError(f"--config: expected a YAML file, got {path.resolve()} (no such file)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        line = e.problem_mark.line + 1 if getattr(e, "problem_mark", None) else 1
        raise ConfigError(f"{path}:{line}: expected YAML `field: value` lines, got {getattr(e, 'problem', e)}") from e
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: expected UTF-8 YAML, got byte 0x{e.object[e.start]:02x}") from e
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: expected YAML `field: value` lines, got {type(data).__name__}")
    unknown = sorted(str(k) for k in data if k not in fields_ and k != "env")  # env: TrlParser sets variables
    if unknown:
        raise ConfigError(
            f"{path}: expected keys among the config fields (see --help), got unknown {unknown}"
            + "".join(
                f"; did you mean {m[0]}?"
                for k in unknown
                if (m := difflib.get_close_matches(k, fields_, 1, cutoff=0.75))
            )
        )


def config_command(group: typer.Typer, name: str, spec: ConfigSpec, run: Callable[..., None], help: str) -> None:
    """Add `name` to `group`: its flags are the fields of `spec.configs`; `run` gets one instance of each, and the
    command line as `command=` when it has such a parameter."""

    def command(ctx: typer.Context) -> None:
        if "-h" in ctx.args or "--help" in ctx.args:
            shown = load(spec.shown_defaults) if spec.shown_defaults else None
            print(format_help(ctx.command_path, help, spec.configs, spec.library, shown, spec.defaults))
            return
        defaults = load(spec.defaults)() if spec.defaults else None
        configs = parse_config(ctx.args, config_types(spec), defaults, prog=ctx.command_path)
        if "command" in inspect.signature(run).parameters:  # e.g. evaluate records it in the run's config.json
            run(*configs, command=shlex.join([*ctx.command_path.split(), *ctx.args]))
        else:
            run(*configs)

    group.command(name, context_settings=PASS_THROUGH, help=help)(command)

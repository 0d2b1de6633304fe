"""The one way long-running `pal` commands read their settings: config dataclasses filled from `--field_name value`
flags and an optional `--config file.yaml` (keys = field names; flags on the line win), by TRL's `TrlParser`.

`pal <cmd> --help` is answered without importing the config classes, whose modules import torch: their fields are
read from the source with `ast` (following base classes into TRL and transformers), and
tests/pal_core/test_cli_config.py checks that this reading agrees with `dataclasses.fields` for every command.
"""

import ast
import difflib
import importlib
import importlib.util
import inspect
import shlex
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path

import typer

from pal_core.errors import ConfigError, PalError

# Typer hands every argument over untouched (its own --help too) so the dataclass parser reads them.
PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}


@dataclass(frozen=True)
class ConfigSpec:
    """The config dataclasses of one command, named "module:Class" so that --help needs no import."""

    configs: tuple[str, ...]
    defaults: str | None = None  # "module:function" returning PAL's overrides of the dataclass defaults


@dataclass(frozen=True)
class FieldDoc:
    name: str
    type: str
    default: str
    help: str


def load(ref: str) -> object:
    """The object a "module:name" reference names (imports the module)."""
    module, name = ref.split(":")
    return getattr(importlib.import_module(module), name)


def config_types(spec: ConfigSpec) -> tuple[type, ...]:
    return tuple(load(ref) for ref in spec.configs)


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
            try:
                print(format_help(ctx.command_path, help, spec))
            except (LookupError, OSError, SyntaxError):  # a config class without readable source: ask argparse
                from trl import TrlParser

                print(TrlParser(config_types(spec), prog=ctx.command_path).format_help())
            return
        defaults = load(spec.defaults)() if spec.defaults else None
        configs = parse_config(ctx.args, config_types(spec), defaults, prog=ctx.command_path)
        if "command" in inspect.signature(run).parameters:  # e.g. evaluate records it in the run's config.json
            run(*configs, command=shlex.join([*ctx.command_path.split(), *ctx.args]))
        else:
            run(*configs)

    group.command(name, context_settings=PASS_THROUGH, help=help)(command)


# ---- --help from the source ------------------------------------------------------------------------------------


def _source(module: str) -> Path:
    """The .py file of `module`, found without importing it (find_spec on a dotted name imports the parents)."""
    top, *rest = module.split(".")
    if top in sys.modules and not rest:
        return Path(sys.modules[top].__file__)
    spec = importlib.util.find_spec(top)
    if spec is None or spec.origin is None:
        raise LookupError(f"no source for module {module!r}")
    if not rest:
        return Path(spec.origin)
    path = Path(spec.origin).parent.joinpath(*rest)
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


@cache
def _tree(module: str) -> ast.Module:
    return ast.parse(_source(module).read_text(encoding="utf-8"))


def _absolute(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module
    package = module if _source(module).name == "__init__.py" else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def _find_class(module: str, name: str) -> tuple[str, ast.ClassDef]:
    """The module defining class `name` as seen from `module`, following `from x import name` (also the ones under
    `if TYPE_CHECKING:` that lazily-importing packages such as transformers keep for type checkers)."""
    tree = _tree(module)
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return module, node
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    return _find_class(_absolute(module, node), alias.name)
    raise LookupError(f"class {name!r} not found from {module!r}")


def _text(node: ast.expr, module: str) -> str:
    """A default or help value as text: a literal, a module-level constant it names, or else its source."""
    if isinstance(node, ast.Name):
        constant = _constant(module, node.id)
        if constant is not None:
            return _text(constant, module)
    if isinstance(node, ast.JoinedStr):  # f"System: {', '.join(SYSTEMS)}." -> the text with {...} kept
        return repr(
            "".join(v.value if isinstance(v, ast.Constant) else f"{{{ast.unparse(v.value)}}}" for v in node.values)
        )
    try:
        return repr(ast.literal_eval(node))
    except ValueError:
        return ast.unparse(node)


def _constant(module: str, name: str) -> ast.expr | None:
    """The value of a module-level `name = <literal>` in `module`, or in the module it is imported from."""
    for node in _tree(module).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            try:
                ast.literal_eval(node.value)
            except ValueError:
                return None
            return node.value
        if isinstance(node, ast.ImportFrom) and any((a.asname or a.name) == name for a in node.names):
            original = next(a.name for a in node.names if (a.asname or a.name) == name)
            try:
                return _constant(_absolute(module, node), original)
            except (LookupError, OSError):
                return None
    return None


def _field_doc(module: str, name: str, node: ast.AnnAssign) -> FieldDoc | None:
    """The field an annotated class attribute declares (None for ClassVar/InitVar or `field(init=False)`)."""
    annotation = ast.unparse(node.annotation)
    if annotation.split("[")[0].rsplit(".", 1)[-1] in ("ClassVar", "InitVar"):
        return None
    value, default, help_text = node.value, "required", ""
    call = value if isinstance(value, ast.Call) and ast.unparse(value.func).rsplit(".", 1)[-1] == "field" else None
    if call is None:
        default = "required" if value is None else _text(value, module)
    else:
        kw = {k.arg: k.value for k in call.keywords}
        if "init" in kw and isinstance(kw["init"], ast.Constant) and kw["init"].value is False:
            return None
        if "default" in kw:
            default = _text(kw["default"], module)
        elif "default_factory" in kw:
            factory = kw["default_factory"]
            default = _text(factory.body, module) if isinstance(factory, ast.Lambda) else f"{ast.unparse(factory)}()"
        if isinstance(kw.get("metadata"), ast.Dict):
            meta = {k.value: v for k, v in zip(kw["metadata"].keys, kw["metadata"].values, strict=True) if k}
            if "help" in meta:
                text = _text(meta["help"], module)
                help_text = ast.literal_eval(text) if text[:1] in "'\"" else text
            if "choices" in meta:
                help_text += f" (choices: {_text(meta['choices'], module)})"
    return FieldDoc(name, annotation, default, " ".join(help_text.split()))


def config_fields(ref: str) -> list[FieldDoc]:
    """The init fields of the dataclass "module:Class", in dataclass order (bases first), read from the source."""
    return list(_class_fields(*ref.split(":")).values())


@cache
def _class_fields(module: str, name: str) -> dict[str, FieldDoc]:
    module, node = _find_class(module, name)
    docs: dict[str, FieldDoc] = {}
    for base in reversed(node.bases):
        try:
            docs.update(_class_fields(module, ast.unparse(base).rsplit(".", 1)[-1]))
        except LookupError:  # object, Generic[...] and other non-dataclass bases
            continue
    for stmt in node.body:
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            doc = _field_doc(module, stmt.target.id, stmt)
            if doc is None:
                docs.pop(stmt.target.id, None)
            elif stmt.target.id in docs and not doc.help:  # an override that only changes the default
                docs[stmt.target.id] = FieldDoc(doc.name, doc.type, doc.default, docs[stmt.target.id].help)
            else:
                docs[stmt.target.id] = doc
    return docs


def literal_defaults(ref: str) -> dict[str, str]:
    """The literal entries of the dict that the function "module:function" returns (PAL's trainer defaults)."""
    module, name = ref.split(":")
    func = next(n for n in _tree(module).body if isinstance(n, ast.FunctionDef) and n.name == name)
    found: dict[str, str] = {}
    for node in ast.walk(func):
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Dict):
            for key, value in zip(node.value.keys, node.value.values, strict=True):
                if isinstance(key, ast.Constant):
                    found[key.value] = _text(value, module)
    return found


def format_help(prog: str, summary: str, spec: ConfigSpec) -> str:
    """argparse-style help listing every field of the command's config classes."""
    pal_defaults = literal_defaults(spec.defaults) if spec.defaults else {}
    out = [f"usage: {prog} [--config FILE.yaml] [--<field> VALUE ...]", "", *textwrap.wrap(summary, 100), ""]
    out += _entry("--config FILE.yaml", "YAML file of `field: value` lines; flags given on the command line win.")
    out.append("  Flags are the field names below (`--max_steps 10`); a bool takes `--flag`, `--flag false` or")
    out.append("  `--no_flag` (when its default is true); a list takes several values (`--tasks select generate`).")
    for ref in spec.configs:
        module, name = ref.split(":")
        out += ["", f"{name} ({module}):"]
        for doc in config_fields(ref):
            default = (
                f"PAL default: {pal_defaults[doc.name]}" if doc.name in pal_defaults else f"default: {doc.default}"
            )
            out += _entry(f"--{doc.name} {doc.type}", f"{doc.help} ({default})".strip())
    if spec.defaults:
        out += ["", f"PAL defaults come from {spec.defaults.replace(':', '.')}() (some depend on the device)."]
    return "\n".join(out)


def _entry(flag: str, text: str) -> list[str]:
    lines = textwrap.wrap(text, width=88, initial_indent=" " * 8, subsequent_indent=" " * 8) or [""]
    return [f"  {flag}", *lines]

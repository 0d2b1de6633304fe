"""`pal <cmd> --help` without importing the config classes (their modules import torch): each dataclass field, its
type, default and help text are read from the source with `ast`, following base classes and `from x import y` into
TRL and transformers. tests/pal_core/test_cli_config.py checks that this reading agrees with `dataclasses.fields`
for every command. Parsing the flags is `config.py`.
"""

import ast
import importlib.util
import sys
import textwrap
from dataclasses import dataclass
from functools import cache
from pathlib import Path


@dataclass(frozen=True)
class FieldDoc:
    name: str
    type: str
    default: str
    help: str


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


def format_help(prog: str, summary: str, configs: tuple[str, ...], defaults: str | None = None) -> str:
    """argparse-style help listing every field of the config classes `configs` ("module:Class"); `defaults` is the
    "module:function" of PAL's overrides of their defaults."""
    pal_defaults = literal_defaults(defaults) if defaults else {}
    out = [f"usage: {prog} [--config FILE.yaml] [--<field> VALUE ...]", "", *textwrap.wrap(summary, 100), ""]
    out += _entry("--config FILE.yaml", "YAML file of `field: value` lines; flags given on the command line win.")
    out.append("  Flags are the field names below (`--max_steps 10`); a bool takes `--flag`, `--flag false` or")
    out.append("  `--no_flag` (when its default is true); a list takes several values (`--tasks select generate`).")
    for ref in configs:
        module, name = ref.split(":")
        out += ["", f"{name} ({module}):"]
        for doc in config_fields(ref):
            default = (
                f"PAL default: {pal_defaults[doc.name]}" if doc.name in pal_defaults else f"default: {doc.default}"
            )
            out += _entry(f"--{doc.name} {doc.type}", f"{doc.help} ({default})".strip())
    if defaults:
        out += ["", f"PAL defaults come from {defaults.replace(':', '.')}() (some depend on the device)."]
    return "\n".join(out)


def _entry(flag: str, text: str) -> list[str]:
    lines = textwrap.wrap(text, width=88, initial_indent=" " * 8, subsequent_indent=" " * 8) or [""]
    return [f"  {flag}", *lines]

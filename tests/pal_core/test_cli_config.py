"""pal_core/cli/config.py and help.py: every long-running command reads its flags from config dataclasses (and
--config YAML); `--help` imports only torch-free config modules and lists TRL's fields from a table that agrees with
the installed TRL."""

import dataclasses
import json
import subprocess
import sys

import pytest
import typer
import typer.main

from pal_core.cli import app as cli
from pal_core.cli import engine as cli_engine
from pal_core.cli import help as help_module
from pal_core.cli import judge as cli_consistency
from pal_core.cli import train as cli_train
from pal_core.cli.config import config_types, load, parse_config
from pal_core.cli.help import LIBRARY_CLASSES, field_docs, library_fields, library_table

SPECS = {
    "train sft": cli_train.SFT,
    "train dpo": cli_train.DPO,
    "sample-rejected": cli_train.SAMPLE_REJECTED,
    "train consistency": cli_consistency.TRAIN_CONSISTENCY,
    "label": cli_consistency.LABEL,
    "evaluate": cli_engine.EVAL,
    "generate": cli_engine.EVAL,
    "select": cli_engine.EVAL,
}
HEAVY = ("torch", "transformers", "trl", "peft", "datasets", "evaluate", "sqlalchemy", "alembic")


def _all_commands() -> list[list[str]]:
    """Every command path of the `pal` tree, e.g. ["train", "sft"]."""
    paths, stack = [], [([], typer.main.get_command(cli.build_app()))]
    while stack:
        path, command = stack.pop()
        paths.append(path)
        stack += [([*path, name], sub) for name, sub in getattr(command, "commands", {}).items()]
    return sorted(paths)


def _docs(ref: str):
    return library_fields(ref) if ref in LIBRARY_CLASSES else field_docs(load(ref))


def test_library_table_is_what_the_installed_trl_has():
    """Regenerate with `python -m pal_core.cli.help` when this fails after a TRL upgrade."""
    table = json.loads(help_module.LIBRARY_TABLE.read_text(encoding="utf-8"))
    assert table == json.loads(json.dumps(library_table()))
    assert {ref for spec in SPECS.values() for ref in spec.library} == set(LIBRARY_CLASSES)


@pytest.mark.parametrize("command", sorted(SPECS))
def test_help_lists_exactly_the_fields_the_parser_takes(command):
    real = [f.name for t in config_types(SPECS[command]) for f in dataclasses.fields(t) if f.init]
    listed = [d.name for ref in (*SPECS[command].configs, *SPECS[command].library) for d in _docs(ref)]
    assert listed == real and len(set(real)) == len(real)


@pytest.mark.parametrize("spec", [cli_train.SFT, cli_train.DPO])
def test_pal_defaults_shown_in_help_are_the_real_ones(spec):
    real, shown = load(spec.defaults)(), load(spec.shown_defaults)
    assert shown and {k: real[k] for k in shown} == shown
    assert set(real) - set(shown) == {"bf16", "fp16", "dataloader_pin_memory"}  # the device's, named in --help


def test_torch_free_name_lists_match_the_registries():
    from pal_core.inference import config, models, selectors, systems
    from pal_core.judge.config import DEFAULT_ENCODER

    assert config.SELECTOR_NAMES == tuple(sorted(selectors.SELECTORS))
    assert config.SYSTEM_NAMES == tuple(sorted(systems.SYSTEMS))
    assert DEFAULT_ENCODER == models.DEFAULT_EMBEDDER


def test_help_of_every_command_imports_no_heavy_module():
    """`pal --help` and `pal <cmd> --help` for the whole tree, in one fresh interpreter: none of the heavy
    libraries may be imported (they cost seconds each on a busy machine)."""
    calls = [[*path, "--help"] for path in _all_commands()]
    code = (
        "import contextlib, io, json, sys\n"
        "from pal_core.cli.app import main\n"
        f"codes = []\n"
        f"for args in {calls!r}:\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        codes.append(main(args))\n"
        f"print(json.dumps([codes, sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    codes, heavy = json.loads(out.splitlines()[-1])
    assert len(calls) > 20 and codes == [0] * len(calls)
    assert heavy == []


@pytest.mark.parametrize("command", sorted(SPECS))
def test_long_running_commands_list_their_fields_and_take_yaml(command, capsys):
    assert cli.main([*command.split(), "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: pal {command} [--config FILE.yaml]")
    for ref in (*SPECS[command].configs, *SPECS[command].library):
        assert all(f"\n  --{d.name} " in out for d in _docs(ref))


def test_every_flag_is_spelled_with_underscores():
    group = typer.main.get_command(cli.build_app())
    stack, flags = [group], []
    while stack:
        command = stack.pop()
        stack += list(getattr(command, "commands", {}).values())
        flags += [o for p in command.params for o in p.opts if o.startswith("--")]
    assert flags and [f for f in flags if "-" in f[2:]] == []


def test_yaml_config_then_flags_for_label_and_evaluate(tmp_path):
    yaml = tmp_path / "label.yaml"
    yaml.write_text("data: in.jsonl\nout: out.json\nthreshold: 0.5\nbatch_size: 8\n")
    (cfg,) = parse_config(["--config", str(yaml), "--batch_size", "4"], config_types(cli_consistency.LABEL))
    assert (cfg.data, cfg.out, cfg.threshold, cfg.batch_size) == ("in.jsonl", "out.json", 0.5, 4)
    yaml.write_text("system: full_persona\nlimit: 3\nswap_persona: true\n")
    (cfg,) = parse_config(["--config", str(yaml), "--limit", "5"], config_types(cli_engine.EVAL))
    assert (cfg.system, cfg.limit, cfg.swap_persona) == ("full_persona", 5, True)
    yaml.write_text("train: pairs.txt\nmax_steps: 3\nfreeze_embeddings: false\n")
    cfg, files = parse_config(["--config", str(yaml)], config_types(cli_consistency.TRAIN_CONSISTENCY))
    assert (files.train, cfg.max_steps, cfg.freeze_embeddings) == ("pairs.txt", 3, False)


def test_config_errors_exit_2(tmp_path, capsys):
    assert cli.main(["label", "--config", str(tmp_path / "nope.yaml")]) == 2
    assert (
        f"error: --config: expected a YAML file, got {tmp_path / 'nope.yaml'} (no such file)"
        in capsys.readouterr().err
    )
    assert cli.main(["label", "--data", "x.jsonl"]) == 2
    assert "error: LabelConfig.out: expected a path, got None" in capsys.readouterr().err
    assert cli.main(["train", "consistency", "--max_steps", "1"]) == 2
    assert "error: ConsistencyDataConfig.train: expected a pairs file, got None" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ["train", "sft", "--learning_rate", "abc"],
            "argument --learning_rate/--learning-rate: invalid float value: 'abc'",
        ),
        (["evaluate", "--limit", "many"], "argument --limit: invalid int value: 'many'"),
        (["label", "--batch_size"], "argument --batch_size/--batch-size: expected one argument"),
    ],
)
def test_bad_flag_values_give_a_two_line_usage_error(args, error, capsys):
    assert cli.main(args) == 2
    prog = "pal " + " ".join(a for a in args[:2] if not a.startswith("--"))
    assert capsys.readouterr().err.splitlines() == [
        f"usage: {prog} [--config FILE.yaml] [--<field> VALUE ...] (see --help)",
        f"{prog}: error: {error}",
    ]


def test_unknown_flags_and_yaml_keys_are_named_before_the_config_checks(tmp_path, capsys):
    # train_file is required too, but the misspelt flag is the mistake to report
    assert cli.main(["train", "sft", "--max-step", "3"]) == 2
    assert capsys.readouterr().err == (
        "error: command line: expected flags named after config fields, got unknown ['--max-step']; "
        "did you mean --max_steps?\n"
    )
    yaml = tmp_path / "c.yaml"
    yaml.write_text("data: x.jsonl\nout: y.json\nthreshhold: 0.5\n")
    assert cli.main(["label", "--config", str(yaml)]) == 2
    assert capsys.readouterr().err == (
        f"error: {yaml}: expected keys among the config fields (see --help), got unknown ['threshhold']; "
        "did you mean threshold?\n"
    )
    yaml.write_text("data: x.jsonl\nout: [unclosed\n")
    assert cli.main(["label", "--config", str(yaml)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {yaml}:3: expected YAML `field: value` lines, got ")

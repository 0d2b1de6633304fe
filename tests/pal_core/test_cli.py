"""Tests for pal_core/cli/app.py: the lazy command map covers the whole tree; bad input exits 2."""

import pytest
import typer.main

from pal_core.cli import app as cli


def test_cli_every_top_level_command_is_in_the_lazy_map():
    group = typer.main.get_command(cli.build_app())
    assert set(group.commands) == set(cli.MODULES_BY_COMMAND)


def test_cli_data_command_imports_only_its_module():
    group = typer.main.get_command(cli.build_app("data"))
    assert set(group.commands) == {"data", "train"}  # `train` is the (empty) group every build adds


def test_cli_bad_file_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n", encoding="utf-8")
    assert cli.main(["data", "stats", str(bad)]) == 2
    assert "bad.jsonl:1" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["import"], "No such command 'import'"),
        (["data", "stats", "--bogus", "x"], "No such option: --bogus"),
        (["data", "stats"], "Missing argument"),
        (["export", "--project", "1"], "Missing option '--out'"),
        (["import-run"], "Missing argument"),
        (["user", "add", "x", "--role"], "Error: Option '--role' requires an argument."),
        (["data", "convert", "a.jsonl", "b.jsonl", "--limit", "many"], "Error: Invalid value for '--limit'"),
    ],
)
def test_cli_usage_errors_exit_2_without_traceback(args, message, capsys):
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) <= 4  # short, no traceback

"""End-to-end `pal train sft` -> `pal sample-rejected` -> `pal train dpo` through `pal_core.cli`, plus flag and
YAML config handling, on the tiny random Llama (CPU, max_steps=2)."""

import json

import pytest
from palkit import FAST_TRAIN_FLAGS, TRAIN_EXAMPLES
from trl import DPOConfig, SFTConfig

from pal_core.cli.app import main
from pal_core.cli.config import parse_config
from pal_core.data.loaders import write_examples
from pal_core.training.records import load_preferences
from pal_core.training.train import PalDpoConfig, PalSftConfig, dpo_defaults, sft_defaults


def _summary(out: str) -> dict:
    """The JSON summary the command prints last (the Trainer may print its own log lines before it)."""
    return json.loads(out[out.rindex("\n{\n") + 1 :] if "\n{\n" in out else out)


@pytest.fixture
def data_file(tmp_path):
    path = tmp_path / "train.jsonl"
    write_examples(TRAIN_EXAMPLES, path, fmt="jsonl")
    return path


def test_cli_sft_sample_dpo_end_to_end(tiny_lm_copy, data_file, tmp_path, capsys):
    sft_dir, dpo_dir, pairs = tmp_path / "sft", tmp_path / "dpo", tmp_path / "pairs.jsonl"
    assert (
        main(
            [
                "train",
                "sft",
                "--model",
                str(tiny_lm_copy),
                "--train_file",
                str(data_file),
                "--output_dir",
                str(sft_dir),
                *FAST_TRAIN_FLAGS,
            ]
        )
        == 0
    )
    assert _summary(capsys.readouterr().out)["global_step"] == 2
    assert (
        main(
            [
                "sample-rejected",
                "--model",
                str(sft_dir),
                "--data",
                str(data_file),
                "--out",
                str(pairs),
                "--max_new_tokens",
                "6",
                "--do_sample",
                "true",
                "--batch_size",
                "4",
            ]
        )
        == 0
    )
    summary = _summary(capsys.readouterr().out)
    assert summary["n_pairs"] == len(load_preferences(pairs)) > 0
    assert (
        main(
            [
                "train",
                "dpo",
                "--model",
                str(sft_dir),
                "--train_file",
                str(pairs),
                "--output_dir",
                str(dpo_dir),
                *FAST_TRAIN_FLAGS,
            ]
        )
        == 0
    )
    config = json.loads((dpo_dir / "train_config.json").read_text())
    assert config["pal"]["use_lora"] is True and config["trainer"]["learning_rate"] == 0.01
    assert (dpo_dir / "model.safetensors").is_file() and (dpo_dir / "metrics.json").is_file()


def test_cli_yaml_config_then_flags_override(tiny_lm_copy, data_file, tmp_path, capsys):
    config = tmp_path / "sft.yaml"
    config.write_text(
        f"model: {tiny_lm_copy}\ntrain_file: {data_file}\ntasks: [full_persona]\nlearning_rate: 0.5\n"
        f"num_train_epochs: 7\n"
    )
    out = tmp_path / "run"
    assert main(["train", "sft", "--config", str(config), "--output_dir", str(out), *FAST_TRAIN_FLAGS]) == 0
    saved = json.loads((out / "train_config.json").read_text())
    assert saved["pal"]["tasks"] == ["full_persona"]
    assert saved["trainer"]["learning_rate"] == 0.01  # the flag wins over the file's 0.5
    assert saved["trainer"]["num_train_epochs"] == 7  # from the file, not PAL's default 3


def test_cli_defaults_are_pal_defaults(data_file, tmp_path):
    _, sft = parse_config(
        ["--train_file", str(data_file), "--output_dir", str(tmp_path)], (PalSftConfig, SFTConfig), sft_defaults()
    )
    assert (sft.learning_rate, sft.num_train_epochs, sft.completion_only_loss) == (2e-5, 3, True)
    pal, dpo = parse_config(
        ["--model", "m", "--train_file", "p.jsonl", "--output_dir", str(tmp_path)],
        (PalDpoConfig, DPOConfig),
        dpo_defaults(),
    )
    assert (dpo.learning_rate, dpo.beta, dpo.loss_type, dpo.num_train_epochs) == (1e-6, 0.1, ["sigmoid"], 3)
    assert (pal.use_lora, pal.lora_r, pal.lora_alpha, pal.merge_lora) == (True, 16, 32, True)


def test_cli_unknown_yaml_key_is_a_config_error(data_file, tmp_path, capsys):
    config = tmp_path / "bad.yaml"
    config.write_text(f"train_file: {data_file}\nlearning_rat: 0.1\n")
    assert main(["train", "sft", "--config", str(config), "--output_dir", str(tmp_path / "o")]) == 2
    assert (
        f"error: {config}: expected keys among the config fields (see --help), got unknown ['learning_rat']; "
        "did you mean learning_rate?" in capsys.readouterr().err
    )


def test_cli_unknown_flag_and_bad_field(data_file, tmp_path, capsys):
    assert main(["train", "dpo", "--model", "m", "--train_file", "p.jsonl", "--betta", "0.2"]) == 2
    assert (
        "error: command line: expected flags named after config fields, got unknown ['--betta']; did you mean --beta?"
        in capsys.readouterr().err
    )
    assert main(["train", "sft", "--train_file", str(data_file), "--tasks", "select", "select"]) == 2
    assert "PalSftConfig.tasks: expected distinct names" in capsys.readouterr().err


def test_cli_bad_preference_file_exit_2(tmp_path, tiny_lm, capsys):
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text('{"id": "a", "prompt": [{"role": "user", "content": "hi"}], "chosen": "x"}\n')
    assert (
        main(
            ["train", "dpo", "--model", str(tiny_lm), "--train_file", str(pairs), "--output_dir", str(tmp_path / "o")]
        )
        == 2
    )
    assert (
        "pairs.jsonl:1: expected keys id, prompt, chosen, rejected, provenance, got no 'rejected'"
        in capsys.readouterr().err
    )


def test_cli_help_lists_dataclass_flags(capsys):
    assert main(["train", "sft", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--tasks" in out and "--use_lora" in out and "--completion_only_loss" in out

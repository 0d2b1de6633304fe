"""`pal train sft`, `pal train dpo` and `pal sample-rejected`.

Flags are the dataclass field names (ours + TRL's SFTConfig/DPOConfig, or GenerationConfig), parsed by TRL's
`TrlParser` (pal_core/cli/config.py); `--help` lists TRL's fields from the table pal_core/cli/library_fields.json.
`--config file.yaml` sets any of them (keys = field names) and flags given on the line win over it. torch, transformers and TRL are imported only when a command runs.
"""

import json
import sys

import typer

from pal_core.cli.config import ConfigSpec, config_command

SFT = ConfigSpec(
    ("pal_core.training.config:PalSftConfig",),
    ("trl.trainer.sft_config:SFTConfig",),
    "pal_core.training.train:sft_defaults",
    "pal_core.training.config:SFT_DEFAULTS",
)
DPO = ConfigSpec(
    ("pal_core.training.config:PalDpoConfig",),
    ("trl.trainer.dpo_config:DPOConfig",),
    "pal_core.training.train:dpo_defaults",
    "pal_core.training.config:DPO_DEFAULTS",
)
SAMPLE_REJECTED = ConfigSpec(
    ("pal_core.training.config:SampleRejectedConfig", "pal_core.inference.config:GenerationConfig")
)


def _emit(result: dict) -> None:
    shown = {k: v for k, v in result.items() if k != "log_history"}
    print(json.dumps(shown, indent=2, default=str), file=sys.stdout)


def train_sft(pal_cfg, sft_cfg) -> None:
    from pal_core.training import train

    _emit(train.train_sft(pal_cfg, sft_cfg))


def train_dpo(pal_cfg, dpo_cfg) -> None:
    from pal_core.training import train

    _emit(train.train_dpo(pal_cfg, dpo_cfg))


def sample_rejected(cfg, gen_cfg) -> None:
    from pal_core.training import rejected

    _emit(rejected.sample_rejected(cfg, gen_cfg))


def register(app: typer.Typer, train_app: typer.Typer) -> None:
    """Add this area's commands to the top-level app and the `pal train` group."""
    config_command(
        train_app,
        "sft",
        SFT,
        train_sft,
        "Stage 1: mixture SFT (select + generate); --tasks full_persona for the persona-in-prompt baseline. "
        "Flags: PalSftConfig + TRL SFTConfig fields.",
    )
    config_command(
        train_app,
        "dpo",
        DPO,
        train_dpo,
        "Stage 2: sigmoid DPO on preference pairs, LoRA by default. Flags: PalDpoConfig + TRL DPOConfig fields.",
    )
    config_command(
        app,
        "sample-rejected",
        SAMPLE_REJECTED,
        sample_rejected,
        "Rejected sampling: persona-free replies of the stage-1 model -> preference JSONL. "
        "Flags: SampleRejectedConfig + GenerationConfig fields.",
    )

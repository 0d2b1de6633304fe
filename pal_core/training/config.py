"""The settings of `pal train sft`, `pal train dpo` and `pal sample-rejected` as plain dataclasses, and PAL's
overrides of TRL's trainer defaults, in a module that imports neither torch nor TRL (TRL's own layout: configs apart
from trainers). `--help` reads the fields here and TRL's `SFTConfig` / `DPOConfig` fields from the table
pal_core/cli/library_fields.json; the trainers are in train.py and rejected.py.
"""

from dataclasses import dataclass, field
from typing import Any

from pal_core.errors import ConfigError

SFT_TASKS = ("select", "generate", "full_persona")  # prompt kinds made per example (records.py builds them)

# PAL's overrides of TRL's defaults that do not depend on the machine (train.py adds bf16 / fp16 and
# dataloader_pin_memory by device: bf16 on a GPU that supports it, fp16 on other GPUs, neither on the CPU).
TRAINER_DEFAULTS: dict[str, Any] = {
    "activation_checkpointing": False,  # 135M-parameter models fit easily; checkpointing only costs speed
    "logging_steps": 10,
    "save_strategy": "steps",
    "save_steps": 500,
    "save_total_limit": 2,
    "report_to": "none",  # offline: no wandb / tensorboard unless asked for
}
# Stage 1 (DESIGN §1: lr 2e-5, 3 epochs as for the Llama recipe).
SFT_DEFAULTS: dict[str, Any] = {
    **TRAINER_DEFAULTS,
    "learning_rate": 2e-5,
    "num_train_epochs": 3,
    "per_device_train_batch_size": 16,
    "completion_only_loss": True,
}
# Stage 2 (DESIGN §1: sigmoid DPO, beta 0.1, lr 1e-6, 3 epochs).
DPO_DEFAULTS: dict[str, Any] = {
    **TRAINER_DEFAULTS,
    "learning_rate": 1e-6,
    "num_train_epochs": 3,
    "per_device_train_batch_size": 8,
    "beta": 0.1,
    "loss_type": ["sigmoid"],
}
DEVICE_DEFAULTS_NOTE = "bf16 / fp16 / dataloader_pin_memory: by device (bf16 on a GPU with bf16, fp16 on other GPUs)"


@dataclass
class _ModelFields:
    """Model and LoRA settings shared by both stages."""

    # Parameters that control the model
    model: str | None = field(
        default=None,
        metadata={"help": "Start checkpoint: local dir (a full model or a LoRA adapter), hub id, or None = SmolLM2."},
    )
    use_lora: bool = field(default=False, metadata={"help": "Train a LoRA adapter (PEFT) instead of all weights."})
    lora_r: int = field(default=16, metadata={"help": "LoRA rank."})
    lora_alpha: int = field(default=32, metadata={"help": "LoRA scaling alpha."})
    lora_dropout: float = field(default=0.05, metadata={"help": "LoRA dropout."})
    lora_target_modules: list[str] | None = field(
        default=None, metadata={"help": "LoRA target modules (None: PEFT's)."}
    )
    merge_lora: bool = field(
        default=True, metadata={"help": "Save the LoRA merged into a plain checkpoint (false: save the adapter)."}
    )
    # Parameters that control the run
    limit: int | None = field(default=None, metadata={"help": "Use only the first N training records."})
    resume: bool = field(
        default=False, metadata={"help": "Resume from the newest complete checkpoint-N in output_dir."}
    )

    def _check_common(self) -> None:
        name = type(self).__name__
        if not self.train_file:
            raise ConfigError(f"{name}.train_file: expected a path, got {self.train_file!r}")
        if self.limit is not None and self.limit < 1:
            raise ConfigError(f"{name}.limit: expected >= 1 or None, got {self.limit}")
        if self.lora_r < 1:
            raise ConfigError(f"{name}.lora_r: expected >= 1, got {self.lora_r}")
        if not 0 <= self.lora_dropout < 1:
            raise ConfigError(f"{name}.lora_dropout: expected in [0, 1), got {self.lora_dropout}")


@dataclass
class PalSftConfig(_ModelFields):
    """Stage 1: which data and which PAL tasks (select + generate = the mixture; full_persona = the SFT baseline)."""

    train_file: str | None = field(
        default=None, metadata={"help": "Training examples (any format load_examples reads)."}
    )
    eval_file: str | None = field(default=None, metadata={"help": "Optional held-out examples for eval loss."})
    data_format: str | None = field(default=None, metadata={"help": "parlai, pal, jsonl or rcdg (None: guess)."})
    tasks: list[str] = field(
        default_factory=lambda: ["select", "generate"],
        metadata={"help": "Tasks per example.", "choices": list(SFT_TASKS)},
    )
    history_window: int = field(default=3, metadata={"help": "Utterances of history kept (PAL: 1-3)."})

    def __post_init__(self) -> None:
        self._check_common()
        bad = [t for t in self.tasks if t not in SFT_TASKS]
        if not self.tasks or bad or len(set(self.tasks)) != len(self.tasks):
            raise ConfigError(f"PalSftConfig.tasks: expected distinct names from {list(SFT_TASKS)}, got {self.tasks}")
        if self.history_window < 1:
            raise ConfigError(f"PalSftConfig.history_window: expected >= 1, got {self.history_window}")


@dataclass
class PalDpoConfig(_ModelFields):
    """Stage 2: the preference file (docs/preference_format.md) and LoRA on by default, as in the paper."""

    use_lora: bool = field(default=True, metadata={"help": "Train a LoRA adapter (PEFT) instead of all weights."})
    train_file: str | None = field(default=None, metadata={"help": "Preference pairs JSONL."})
    eval_file: str | None = field(default=None, metadata={"help": "Optional held-out preference pairs JSONL."})

    def __post_init__(self) -> None:
        self._check_common()
        if not self.model:  # PAL aligns the stage-1 model; a silent fallback to the base LM would skip stage 1
            raise ConfigError(
                "PalDpoConfig.model: expected the stage-1 model (a `pal train sft` run dir or adapter), got nothing"
            )


@dataclass
class SampleRejectedConfig:
    """Rejected sampling: the stage-1 model answers from history only; its replies become the rejected side.

    The model is required: the rejected side must be that model's own persona-free reply, never a default LM's.
    """

    model: str | None = field(
        default=None, metadata={"help": "The stage-1 model (a run dir of `pal train sft`); required."}
    )
    data: str | None = field(default=None, metadata={"help": "Training examples (any format load_examples reads)."})
    out: str | None = field(default=None, metadata={"help": "Preference JSONL to write."})
    data_format: str | None = field(default=None, metadata={"help": "parlai, pal, jsonl or rcdg (None: guess)."})
    history_window: int = field(default=3, metadata={"help": "Utterances of history kept (PAL: 1-3)."})
    limit: int | None = field(default=None, metadata={"help": "Use only the first N examples."})
    device: str | None = field(default=None, metadata={"help": "cpu, cuda or cuda:N; default cuda if available."})
    dtype: str | None = field(default=None, metadata={"help": "float32, bfloat16 or float16; default by device."})

    def __post_init__(self) -> None:
        for key in ("model", "data", "out"):
            if not getattr(self, key):
                raise ConfigError(f"SampleRejectedConfig.{key}: expected a path, got {getattr(self, key)!r}")
        if self.limit is not None and self.limit < 1:
            raise ConfigError(f"SampleRejectedConfig.limit: expected >= 1 or None, got {self.limit}")
        if self.history_window < 1:
            raise ConfigError(f"SampleRejectedConfig.history_window: expected >= 1, got {self.history_window}")

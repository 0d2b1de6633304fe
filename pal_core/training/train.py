"""PAL training: stage-1 mixture SFT and stage-2 DPO on TRL's trainers (+ PEFT LoRA), with their configs and PAL's
trainer defaults. Rejected sampling (the pairs between the stages) is in `rejected.py`, the run directory in
`runs.py`.

Our dataclasses hold only what TRL's `SFTConfig` / `DPOConfig` do not: data, task mixture and LoRA settings. Every
training run leaves a run directory: `train_config.json`, `metrics.json`, `checkpoint-N/` (for `resume`) and the
final model (LoRA merged by default) with its tokenizer, loadable by path like any checkpoint. The model's own
`config.json` sits there too, which is why ours is called `train_config.json`.
"""

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from peft import LoraConfig
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase
from trl import DPOConfig, DPOTrainer, ModelConfig, SFTConfig, SFTTrainer, get_peft_config

from pal_core.data.loaders import load_examples
from pal_core.errors import ConfigError
from pal_core.inference import models
from pal_core.training.records import (
    SFT_TASKS,
    build_preference_dataset,
    build_sft_dataset,
    load_preferences,
)
from pal_core.training.records import (
    to_preference_records as to_preference_records,  # docs/interfaces.md names it here
)
from pal_core.training.runs import resume_point, run_trainer


def _trainer_defaults() -> dict[str, Any]:
    """Settings both stages share; bf16 only on a GPU that supports it, fp16 on other GPUs, fp32 on the CPU (TRL
    would turn bf16 on for the CPU too)."""
    bf16 = models.cuda_bf16_supported()
    return {
        "bf16": bf16,
        "fp16": torch.cuda.is_available() and not bf16,  # T4/V100: fp16 autocast with a gradient scaler
        "activation_checkpointing": False,  # 135M-parameter models fit easily; checkpointing only costs speed
        "dataloader_pin_memory": torch.cuda.is_available(),
        "logging_steps": 10,
        "save_strategy": "steps",
        "save_steps": 500,
        "save_total_limit": 2,
        "report_to": "none",  # offline: no wandb / tensorboard unless asked for
    }


def sft_defaults() -> dict[str, Any]:
    """PAL's stage-1 trainer defaults (DESIGN §1: lr 2e-5, 3 epochs as for the Llama recipe)."""
    return {
        **_trainer_defaults(),
        "learning_rate": 2e-5,
        "num_train_epochs": 3,
        "per_device_train_batch_size": 16,
        "completion_only_loss": True,
    }


def dpo_defaults() -> dict[str, Any]:
    """PAL's stage-2 trainer defaults (DESIGN §1: sigmoid DPO, beta 0.1, lr 1e-6, 3 epochs)."""
    return {
        **_trainer_defaults(),
        "learning_rate": 1e-6,
        "num_train_epochs": 3,
        "per_device_train_batch_size": 8,
        "beta": 0.1,
        "loss_type": ["sigmoid"],
    }


def make_sft_args(**overrides: Any) -> SFTConfig:
    """TRL's SFTConfig with PAL's defaults, then `overrides`."""
    return SFTConfig(**{**sft_defaults(), **overrides})


def make_dpo_args(**overrides: Any) -> DPOConfig:
    """TRL's DPOConfig with PAL's defaults, then `overrides`."""
    return DPOConfig(**{**dpo_defaults(), **overrides})


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


def _load_trainable(name: str | None) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """fp32 weights (bf16 comes from autocast), right padding, a pad token. An adapter folder loads as its base
    model with that adapter trainable (DPO then trains it on, against a frozen copy as the reference)."""
    path = models.resolve_lm_path(name)
    is_adapter = models.is_adapter_dir(path)
    base_path = models.resolve_lm_path(models.adapter_base(path)) if is_adapter else path
    tokenizer_path = path if (Path(path) / "tokenizer_config.json").is_file() else base_path
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "right"
    model = AutoModelForCausalLM.from_pretrained(base_path, dtype=torch.float32)
    if is_adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(path), is_trainable=True)
    return model, tokenizer


def _peft_config(cfg: _ModelFields) -> LoraConfig | None:
    """TRL's ModelConfig -> PEFT LoraConfig, or None for full fine-tuning."""
    if not cfg.use_lora:
        return None
    return get_peft_config(
        ModelConfig(
            use_peft=True,
            lora_r=cfg.lora_r,
            lora_alpha=cfg.lora_alpha,
            lora_dropout=cfg.lora_dropout,
            lora_target_modules=cfg.lora_target_modules,
        )
    )


def train_sft(cfg: PalSftConfig, args: SFTConfig) -> dict:
    """Stage 1: mixture SFT (or the generate-only / full-persona baseline) with loss on the completion only."""
    if args.completion_only_loss is False:
        raise ConfigError("SFTConfig.completion_only_loss: expected True or None (PAL trains on targets), got False")
    checkpoint = resume_point(Path(args.output_dir), cfg.resume)
    examples = load_examples(cfg.train_file, history_window=cfg.history_window, fmt=cfg.data_format)[: cfg.limit]
    train_set = build_sft_dataset(examples, cfg.tasks)
    eval_set = None
    if cfg.eval_file:
        eval_set = build_sft_dataset(
            load_examples(cfg.eval_file, history_window=cfg.history_window, fmt=cfg.data_format), cfg.tasks
        )
    model, tokenizer = _load_trainable(cfg.model)
    if hasattr(model, "peft_config"):
        raise ConfigError(f"PalSftConfig.model: expected a full model to fine-tune, got the adapter {cfg.model}")
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=train_set,
        eval_dataset=eval_set,
        processing_class=tokenizer,
        peft_config=_peft_config(cfg),
    )
    return run_trainer(
        trainer, "sft", asdict(cfg), len(train_set), checkpoint, merge_lora=cfg.use_lora and cfg.merge_lora
    )


def train_dpo(cfg: PalDpoConfig, args: DPOConfig) -> dict:
    """Stage 2: sigmoid DPO on preference pairs (rejected sampling or human judgements), LoRA by default."""
    checkpoint = resume_point(Path(args.output_dir), cfg.resume)
    records = load_preferences(cfg.train_file)[: cfg.limit]
    eval_set = build_preference_dataset(load_preferences(cfg.eval_file)) if cfg.eval_file else None
    model, tokenizer = _load_trainable(cfg.model)
    # Starting from a stage-1 adapter, DPO trains that adapter on and TRL keeps a frozen copy as the reference.
    peft_config = None if hasattr(model, "peft_config") else _peft_config(cfg)
    trainer = DPOTrainer(
        model=model,
        args=args,
        train_dataset=build_preference_dataset(records),
        eval_dataset=eval_set,
        processing_class=tokenizer,
        peft_config=peft_config,
    )
    return run_trainer(
        trainer, "dpo", asdict(cfg), len(records), checkpoint, merge_lora=cfg.use_lora and cfg.merge_lora
    )

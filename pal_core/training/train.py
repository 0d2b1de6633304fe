"""PAL training: stage-1 mixture SFT and stage-2 DPO on TRL's trainers (+ PEFT LoRA); their configs and PAL's
trainer defaults are in the torch-free `config.py`. Rejected sampling (the pairs between the stages) is in `rejected.py`, the run directory in
`runs.py`.

Our dataclasses hold only what TRL's `SFTConfig` / `DPOConfig` do not: data, task mixture and LoRA settings. Every
training run leaves a run directory: `train_config.json`, `metrics.json`, `checkpoint-N/` (for `resume`) and the
final model (LoRA merged by default) with its tokenizer, loadable by path like any checkpoint. The model's own
`config.json` sits there too, which is why ours is called `train_config.json`.
"""

from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from peft import LoraConfig
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase
from trl import DPOConfig, DPOTrainer, ModelConfig, SFTConfig, SFTTrainer, get_peft_config

from pal_core.data.loaders import load_examples
from pal_core.errors import ConfigError
from pal_core.inference import models
from pal_core.training.config import DPO_DEFAULTS, SFT_DEFAULTS, PalDpoConfig, PalSftConfig, _ModelFields
from pal_core.training.records import (
    build_preference_dataset,
    build_sft_dataset,
    load_preferences,
)
from pal_core.training.records import (
    to_preference_records as to_preference_records,  # docs/interfaces.md names it here
)
from pal_core.training.runs import resume_point, run_trainer


def _device_defaults() -> dict[str, Any]:
    """bf16 only on a GPU that supports it, fp16 on other GPUs, fp32 on the CPU (TRL would turn bf16 on for the CPU
    too)."""
    bf16 = models.cuda_bf16_supported()
    return {
        "bf16": bf16,
        "fp16": torch.cuda.is_available() and not bf16,  # T4/V100: fp16 autocast with a gradient scaler
        "dataloader_pin_memory": torch.cuda.is_available(),
    }


def sft_defaults() -> dict[str, Any]:
    """PAL's stage-1 trainer defaults: config.SFT_DEFAULTS plus the device's precision."""
    return {**_device_defaults(), **SFT_DEFAULTS}


def dpo_defaults() -> dict[str, Any]:
    """PAL's stage-2 trainer defaults: config.DPO_DEFAULTS plus the device's precision."""
    return {**_device_defaults(), **DPO_DEFAULTS}


def make_sft_args(**overrides: Any) -> SFTConfig:
    """TRL's SFTConfig with PAL's defaults, then `overrides`."""
    return SFTConfig(**{**sft_defaults(), **overrides})


def make_dpo_args(**overrides: Any) -> DPOConfig:
    """TRL's DPOConfig with PAL's defaults, then `overrides`."""
    return DPOConfig(**{**dpo_defaults(), **overrides})


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

"""PAL training: stage-1 mixture SFT, rejected sampling and stage-2 DPO, on TRL's trainers (+ PEFT LoRA).

Our dataclasses hold only what TRL's `SFTConfig` / `DPOConfig` do not: data, task mixture and LoRA settings. Every
training run leaves a run directory: `train_config.json`, `metrics.json`, `checkpoint-N/` (for `resume`) and the
final model (LoRA merged by default) with its tokenizer, loadable by path like any checkpoint. The model's own
`config.json` sits there too, which is why ours is called `train_config.json`.
"""

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch
from peft import LoraConfig
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase
from transformers.trainer_utils import get_last_checkpoint
from trl import DPOConfig, DPOTrainer, ModelConfig, SFTConfig, SFTTrainer, get_peft_config

from pal_core import distributed, models, prompts
from pal_core.data import load_examples
from pal_core.errors import ConfigError
from pal_core.generate import GenerationConfig, generate_texts
from pal_core.train_data import (
    SFT_TASKS,
    build_preference_dataset,
    build_rejected_records,
    build_sft_dataset,
    load_preferences,
    write_preferences,
)
from pal_core.train_data import to_preference_records as to_preference_records  # docs/interfaces.md names it here

logger = logging.getLogger(__name__)


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


_WEIGHT_FILES = ("model.safetensors", "adapter_model.safetensors", "pytorch_model.bin", "model.safetensors.index.json")


def checkpoint_problem(path: Path) -> str | None:
    """Why a checkpoint-N folder cannot be resumed from, or None when it is complete. The Trainer writes
    trainer_state.json last (after weights, optimizer, scheduler and RNG state), so a save killed half-way leaves it
    missing or cut short."""
    state = path / "trainer_state.json"
    if not state.is_file():
        return "no trainer_state.json (the save did not finish)"
    try:
        json.loads(state.read_text(encoding="utf-8"))
    except ValueError:
        return "trainer_state.json is cut short"
    if not any((path / name).is_file() for name in _WEIGHT_FILES):
        return f"no weights ({', '.join(_WEIGHT_FILES)})"
    return None


def last_complete_checkpoint(output_dir: Path) -> str | None:
    """The newest checkpoint-N in output_dir that a save finished; incomplete ones are skipped with a warning."""
    if not output_dir.is_dir():
        return None
    found = []
    for path in output_dir.glob("checkpoint-*"):
        step = path.name.removeprefix("checkpoint-")
        if path.is_dir() and step.isdigit():
            found.append((int(step), path))
    for _, path in sorted(found, reverse=True):
        problem = checkpoint_problem(path)
        if problem is None:
            return str(path)
        logger.warning("resume: skipping incomplete %s: %s", path, problem)
    return None


def _resume_point(output_dir: Path, resume: bool) -> str | None:
    if resume:
        last = last_complete_checkpoint(output_dir)
        if last is None:
            logger.warning("resume: no complete checkpoint-N in %s; starting from the beginning", output_dir)
        else:
            logger.info("resuming from %s", last)
        return last
    existing = get_last_checkpoint(str(output_dir)) if output_dir.is_dir() else None
    if existing is not None:
        raise ConfigError(f"output_dir: expected a directory without checkpoints (or --resume), got {existing}")
    return None


def _write_json(path: Path, value: dict) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")


def _save_final(trainer: Any, cfg: _ModelFields, output_dir: Path) -> None:
    """Save through the trainer (it gathers FSDP / ZeRO-3 shards and writes on the main process only), then, for a
    LoRA run with merge_lora, merge once on the main process into a plain checkpoint in the same folder."""
    model = trainer.accelerator.unwrap_model(trainer.model)
    if hasattr(model, "peft_config") and "ref" in model.peft_config:
        model.delete_adapter("ref")  # the frozen DPO reference copy is not part of the result
    model.config.use_cache = True  # training turns the KV cache off; generation wants it back
    trainer.save_model(str(output_dir))
    trainer.accelerator.wait_for_everyone()
    if not trainer.is_world_process_zero():
        return
    if (output_dir / models.ADAPTER_CONFIG).is_file():
        _name_base_portably(output_dir)
        if cfg.use_lora and cfg.merge_lora:
            merged, _ = models.load_lm(str(output_dir), device="cpu", dtype="float32")
            for name in (models.ADAPTER_CONFIG, "adapter_model.safetensors"):
                (output_dir / name).unlink(missing_ok=True)
            merged.save_pretrained(output_dir)
    if trainer.processing_class is not None:
        trainer.processing_class.save_pretrained(output_dir)


def _name_base_portably(output_dir: Path) -> None:
    """An adapter over the default LM names it `smollm2-135m-instruct`, not this machine's cache folder."""
    path = output_dir / models.ADAPTER_CONFIG
    config = json.loads(path.read_text(encoding="utf-8"))
    base = config.get("base_model_name_or_path")
    if base and Path(base).resolve() == models.lm_cache_dir().resolve():
        config["base_model_name_or_path"] = models.DEFAULT_LM
        _write_json(path, config)


def _run(trainer: Any, stage: str, cfg: _ModelFields, n_records: int, checkpoint: str | None) -> dict:
    """Train (from `checkpoint` if given), then save the final model, tokenizer, train_config.json, metrics.json."""
    args = trainer.args
    output_dir = Path(args.output_dir)
    main = trainer.is_world_process_zero()
    if main:
        output_dir.mkdir(parents=True, exist_ok=True)
        _write_json(
            output_dir / "train_config.json",
            {
                "stage": stage,
                "pal": asdict(cfg),
                "trainer": args.to_dict(),
                "n_train_records": n_records,
                "created_at": datetime.now(UTC).isoformat(),
            },
        )
    result = trainer.train(resume_from_checkpoint=checkpoint)
    _save_final(trainer, cfg, output_dir)
    metrics = {
        "stage": stage,
        "train_loss": result.metrics.get("train_loss"),
        "train_runtime_s": result.metrics.get("train_runtime"),
        "examples_per_s": result.metrics.get("train_samples_per_second"),
        "steps_per_s": result.metrics.get("train_steps_per_second"),
        "global_step": trainer.state.global_step,
        "world_size": args.world_size,
        "n_train_records": n_records,
        "resumed_from": Path(checkpoint).name if checkpoint else None,
        "log_history": trainer.state.log_history,
    }
    if main:
        _write_json(output_dir / "metrics.json", metrics)
    logger.info(
        "%s done: loss %.4f, %d steps, model saved to %s",
        stage,
        metrics["train_loss"] or float("nan"),
        metrics["global_step"],
        output_dir,
    )
    return metrics


def train_sft(cfg: PalSftConfig, args: SFTConfig) -> dict:
    """Stage 1: mixture SFT (or the generate-only / full-persona baseline) with loss on the completion only."""
    if args.completion_only_loss is False:
        raise ConfigError("SFTConfig.completion_only_loss: expected True or None (PAL trains on targets), got False")
    checkpoint = _resume_point(Path(args.output_dir), cfg.resume)
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
    return _run(trainer, "sft", cfg, len(train_set), checkpoint)


def train_dpo(cfg: PalDpoConfig, args: DPOConfig) -> dict:
    """Stage 2: sigmoid DPO on preference pairs (rejected sampling or human judgements), LoRA by default."""
    checkpoint = _resume_point(Path(args.output_dir), cfg.resume)
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
    return _run(trainer, "dpo", cfg, len(records), checkpoint)


def sample_rejected(cfg: SampleRejectedConfig, gen: GenerationConfig) -> dict:
    """Generate persona-free replies with the stage-1 model and write the preference pairs; returns counts.

    Under `accelerate launch` each process generates for a contiguous shard of the examples on its own device and
    the main process alone writes the pairs; every process returns once they are written."""
    start = time.perf_counter()
    device = distributed.process_device(cfg.device)  # "cuda" without a GPU fails before the data is read
    loaded = load_examples(cfg.data, history_window=cfg.history_window, fmt=cfg.data_format)[: cfg.limit]
    examples = [ex for ex in loaded if ex.persona_label is not None]  # unlabelled ones cannot make a pair
    model, tokenizer = models.load_lm(cfg.model, device=device, dtype=cfg.dtype)
    texts = [prompts.render_prompt(tokenizer, prompts.persona_free_messages(ex.history)) for ex in examples]
    generations = distributed.map_sharded(lambda part: generate_texts(model, tokenizer, part, gen), texts)
    records, skipped = build_rejected_records(examples, generations, model=str(cfg.model))
    skipped["unlabelled"] += len(loaded) - len(examples)
    if distributed.is_main_process():
        write_preferences(records, cfg.out)
    distributed.wait_for_everyone()
    summary = {
        "n_examples": len(loaded),
        "n_pairs": len(records),
        "skipped": skipped,
        "wall_time_s": round(time.perf_counter() - start, 3),
        "out": str(cfg.out),
    }
    logger.info(
        "rejected sampling: %d pairs from %d examples (skipped %s) -> %s",
        len(records),
        len(examples),
        skipped,
        cfg.out,
    )
    return summary

"""The run directory of a training stage: resuming from the newest complete `checkpoint-N`, training, saving the final
model through the trainer (LoRA merged once, on the main process) with its tokenizer, and writing
`train_config.json` and `metrics.json`. The stages themselves (data, model, TRL trainer) are built in `train.py`.
"""

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from transformers.trainer_utils import get_last_checkpoint

from pal_core.errors import ConfigError
from pal_core.inference import models

logger = logging.getLogger(__name__)


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


def resume_point(output_dir: Path, resume: bool) -> str | None:
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


def _save_final(trainer: Any, output_dir: Path, merge_lora: bool) -> None:
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
        if merge_lora:
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


def run_trainer(
    trainer: Any, stage: str, settings: dict, n_records: int, checkpoint: str | None, *, merge_lora: bool
) -> dict:
    """Train (from `checkpoint` if given), then save the final model, tokenizer, train_config.json (with our
    `settings` and the trainer's arguments) and metrics.json; a LoRA run with `merge_lora` is saved merged."""
    args = trainer.args
    output_dir = Path(args.output_dir)
    main = trainer.is_world_process_zero()
    if main:
        output_dir.mkdir(parents=True, exist_ok=True)
        _write_json(
            output_dir / "train_config.json",
            {
                "stage": stage,
                "pal": settings,
                "trainer": args.to_dict(),
                "n_train_records": n_records,
                "created_at": datetime.now(UTC).isoformat(),
            },
        )
    result = trainer.train(resume_from_checkpoint=checkpoint)
    _save_final(trainer, output_dir, merge_lora)
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

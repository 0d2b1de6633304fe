"""Training the consistency classifier (`pal train consistency`) on transformers' `Trainer`: AdamW with linear decay
and 10% warm-up, gradient clipping, length-grouped batches, a checkpoint-N after every epoch (resumable with
`--resume`) and, after every epoch, the model folder `ConsistencyModel.load` reads, scored on the dev pairs.

The settings are `ConsistencyConfig` (pal_core/judge/config.py, torch-free). Silver pairs are built by the caller
(pal_core/judge/silver.py) and passed in; this module never reads a silver file.
"""

import importlib.util
import json
import logging
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import torch
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    DataCollatorWithPadding,
    Trainer,
    TrainerCallback,
    TrainingArguments,
)

from pal_core.errors import ConfigError, ModelNotFoundError, PalError
from pal_core.inference.models import EMBEDDER_PACKAGE
from pal_core.judge.classifier import CLASS_NAMES, LABELS_FILE, ConsistencyModel, default_model_dir
from pal_core.judge.config import DEFAULT_ENCODER, ConsistencyConfig
from pal_core.judge.nli_pairs import NliPair, evaluate_pairs
from pal_core.training.runs import resume_point

logger = logging.getLogger(__name__)

METRICS_FILE = "metrics.json"
WARMUP_SHARE = 0.1  # of all optimisation steps, then linear decay to 0
WEIGHT_DECAY = 0.01
MAX_GRAD_NORM = 1.0


def resolve_encoder_path(name_or_path: str) -> Path:
    """Local folder of the base encoder: the offline MiniLM package for the default name, else an existing path."""
    if name_or_path.lower() == DEFAULT_ENCODER:
        # A sentence-transformers folder keeps the plain BertModel weights + config.json at its top level.
        spec = importlib.util.find_spec(EMBEDDER_PACKAGE)
        if spec is None or spec.origin is None:
            raise ModelNotFoundError(
                f"resolve_encoder_path: expected the {EMBEDDER_PACKAGE} package installed, got none"
            )
        return Path(spec.origin).parent / "model"
    path = Path(name_or_path).expanduser()
    if not (path / "config.json").is_file():
        raise ModelNotFoundError(
            f"resolve_encoder_path: expected {DEFAULT_ENCODER!r} or a local model folder with config.json, "
            f"got {name_or_path!r}"
        )
    return path


def _class_weights(pairs: Sequence[NliPair]) -> torch.Tensor:
    """Per-class loss weights n / (3 * n_class), CLASS_NAMES order: each class then counts as much in total."""
    counts = torch.bincount(torch.tensor([p.label + 1 for p in pairs]), minlength=len(CLASS_NAMES)).float()
    return len(pairs) / (len(CLASS_NAMES) * counts.clamp(min=1))


def _features(tokenizer, pairs: Sequence[NliPair], max_length: int) -> list[dict]:
    """One unpadded row per pair, `response [SEP] persona sentence` as at inference; the collator pads batches."""
    encoded = tokenizer(
        [p.response for p in pairs], [p.persona for p in pairs], truncation=True, max_length=max_length
    )
    columns = list(encoded.keys())
    return [{**{c: encoded[c][i] for c in columns}, "labels": p.label + 1} for i, p in enumerate(pairs)]


class _CrossEntropy:
    """The Trainer's loss: cross-entropy over the 3 classes, optionally weighted per class."""

    def __init__(self, weight: torch.Tensor | None) -> None:
        self.weight = weight

    def __call__(self, outputs, labels: torch.Tensor, num_items_in_batch=None) -> torch.Tensor:
        logits = outputs["logits"]
        weight = None if self.weight is None else self.weight.to(logits.device)
        return torch.nn.functional.cross_entropy(logits, labels, weight=weight)


class _EpochEnd(TrainerCallback):
    """After every epoch: dev scores into the trainer's log (kept in checkpoints, so a resumed run has them), then,
    once the checkpoint is saved, the loadable model folder; plus a progress line every few percent of the steps."""

    def __init__(self, cfg: ConsistencyConfig, tokenizer, dev_pairs: Sequence[NliPair], output_dir: Path, info: dict):
        self.cfg, self.tokenizer, self.dev_pairs, self.output_dir, self.info = (
            cfg,
            tokenizer,
            dev_pairs,
            output_dir,
            info,
        )
        self.start = time.time()
        self.metrics: dict = {}

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step % max(1, state.max_steps // 40) == 0:
            elapsed = time.time() - self.start
            done = state.global_step - self.info["first_step"]
            eta = elapsed / max(done, 1) * (state.max_steps - state.global_step)
            logger.info(
                "step %d/%d, %.0f s elapsed, about %.0f s left", state.global_step, state.max_steps, elapsed, eta
            )

    def on_epoch_end(self, args, state, control, model=None, **kwargs):
        if self.dev_pairs:
            scorer = ConsistencyModel(model, self.tokenizer, max_length=self.cfg.max_length, device=str(model.device))
            dev = evaluate_pairs(scorer, self.dev_pairs)
            model.train()
            state.log_history.append({"step": state.global_step, "dev": dev})
            logger.info("epoch %d: dev accuracy %.4f", round(state.epoch), dev["accuracy"])

    def on_save(self, args, state, control, model=None, **kwargs):
        self.metrics = _metrics(state, self.cfg, self.info, time.time() - self.start)
        if state.is_world_process_zero:
            _save_model_folder(model, self.tokenizer, self.cfg.max_length, self.output_dir, self.metrics)


def _metrics(state, cfg: ConsistencyConfig, info: dict, wall_time_s: float) -> dict:
    """metrics.json: per-epoch train loss and dev scores from the trainer's log, the last dev scores, the data."""
    by_step: dict[int, dict] = {}
    for entry in state.log_history:
        if "dev" in entry or ("loss" in entry and "train_runtime" not in entry):
            record = by_step.setdefault(entry["step"], {"step": entry["step"]})
            record.update({"train_loss": entry["loss"]} if "loss" in entry else {"dev": entry["dev"]})
    history = [{"epoch": i + 1, **record} for i, record in enumerate(by_step[s] for s in sorted(by_step))]
    dev = history[-1].get("dev") if history else None
    return {
        "dev_accuracy": dev["accuracy"] if dev else None,
        "dev": dev,
        "history": history,
        **{k: v for k, v in info.items() if k != "first_step"},
        "steps": state.global_step,
        "wall_time_s": round(wall_time_s, 1),
        "config": asdict(cfg),
    }


def _save_model_folder(model, tokenizer, max_length: int, output_dir: Path, metrics: dict) -> None:
    """Write model, tokenizer, labels.json and metrics.json into a staging folder, then move each file into
    output_dir with os.replace (atomic per file; metrics.json last), so a reader never sees a half-written file."""
    staging = output_dir / f".saving-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    model.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    labels_meta = {"classes": list(CLASS_NAMES), "values": [-1, 0, 1], "max_length": max_length}
    labels_meta["input"] = "response [SEP] persona sentence"
    (staging / LABELS_FILE).write_text(json.dumps(labels_meta, indent=2))
    (staging / METRICS_FILE).write_text(json.dumps(metrics, indent=2))
    for path in sorted(staging.iterdir(), key=lambda p: p.name == METRICS_FILE):
        os.replace(path, output_dir / path.name)
    staging.rmdir()
    logger.info(
        "saved consistency model to %s (step %d, %.0f s)", output_dir, metrics["steps"], metrics["wall_time_s"]
    )


def _training_arguments(cfg: ConsistencyConfig, output_dir: Path, total: int) -> TrainingArguments:
    return TrainingArguments(
        output_dir=str(output_dir),
        per_device_train_batch_size=cfg.batch_size,
        num_train_epochs=cfg.epochs,
        max_steps=total if cfg.max_steps > 0 else -1,
        learning_rate=cfg.lr,
        weight_decay=WEIGHT_DECAY,
        lr_scheduler_type="linear",
        warmup_steps=int(WARMUP_SHARE * total),
        max_grad_norm=MAX_GRAD_NORM,
        train_sampling_strategy="group_by_length",  # shuffled batches of similar length: little padding
        logging_strategy="epoch",
        save_strategy="epoch",
        save_total_limit=1,
        seed=cfg.seed,
        data_seed=cfg.seed,
        use_cpu=cfg.device == "cpu",
        report_to="none",
        disable_tqdm=True,
        dataloader_num_workers=0,
        dataloader_pin_memory=torch.cuda.is_available(),
    )


def train_consistency(
    train_pairs: Sequence[NliPair],
    dev_pairs: Sequence[NliPair],
    cfg: ConsistencyConfig,
    silver_pairs: Sequence[NliPair] = (),
) -> dict:
    """Fine-tune the cross-encoder on the gold `train_pairs` plus `silver_pairs` (built by the caller from
    cfg.silver), save model + tokenizer + labels + metrics.json to cfg.output_dir, return the metrics.

    A checkpoint-N folder is kept in output_dir while training (the newest complete one, for `resume`) and removed
    when the run finishes."""
    if not train_pairs:
        raise PalError("train_consistency: expected at least one training pair, got none")
    if bool(cfg.silver) != bool(silver_pairs):
        raise ConfigError(
            f"ConsistencyConfig.silver: expected silver pairs passed in exactly when it names a file "
            f"(silver.build_silver_pairs(cfg)), got silver={cfg.silver!r} and {len(silver_pairs)} silver pairs"
        )
    output_dir = Path(cfg.output_dir) if cfg.output_dir else default_model_dir()
    checkpoint = resume_point(output_dir, cfg.resume)
    n_gold, n_silver = len(train_pairs), len(silver_pairs)
    train_pairs = [*train_pairs, *silver_pairs]
    if cfg.swap_augment:
        # DNLI labels relate two sentences' triples (same / unrelated / contradicting), so they hold either way round.
        train_pairs = train_pairs + [NliPair(p.response, p.persona, p.label) for p in train_pairs]
    if cfg.device and cfg.device.startswith("cuda:"):
        torch.cuda.set_device(int(cfg.device.removeprefix("cuda:")))
    base = resolve_encoder_path(cfg.model)
    torch.manual_seed(cfg.seed)  # the new head's initialisation
    id2label = dict(enumerate(CLASS_NAMES))
    model = AutoModelForSequenceClassification.from_pretrained(
        base, num_labels=3, id2label=id2label, label2id={v: k for k, v in id2label.items()}
    )
    if cfg.freeze_embeddings:
        # The word-embedding matrix is half of MiniLM's weights; its dense AdamW update dominates a CPU step.
        model.get_input_embeddings().weight.requires_grad_(False)
    tokenizer = AutoTokenizer.from_pretrained(base)
    steps_per_epoch = -(-len(train_pairs) // cfg.batch_size)
    total = steps_per_epoch * cfg.epochs if cfg.max_steps < 0 else min(cfg.max_steps, steps_per_epoch * cfg.epochs)
    info = {
        "n_train": len(train_pairs),
        "n_train_gold": n_gold,
        "n_train_silver": n_silver,
        "n_dev": len(dev_pairs),
        "base_model": str(base),
        "resumed_from": Path(checkpoint).name if checkpoint else None,
        "first_step": int(Path(checkpoint).name.removeprefix("checkpoint-")) if checkpoint else 0,
    }
    epoch_end = _EpochEnd(cfg, tokenizer, dev_pairs, output_dir, info)
    trainer = Trainer(
        model=model,
        args=_training_arguments(cfg, output_dir, total),
        data_collator=DataCollatorWithPadding(tokenizer),
        train_dataset=_features(tokenizer, train_pairs, cfg.max_length),
        processing_class=tokenizer,
        compute_loss_func=_CrossEntropy(_class_weights(train_pairs) if cfg.balance_classes else None),
        callbacks=[epoch_end],
    )
    logger.info(
        "training on %d pairs from %s: %d steps, device %s", len(train_pairs), base, total, trainer.args.device
    )
    trainer.train(resume_from_checkpoint=checkpoint)
    if trainer.is_world_process_zero():
        for path in output_dir.glob("checkpoint-*"):
            shutil.rmtree(path)  # the run is complete: the model folder above is the result
    return epoch_end.metrics

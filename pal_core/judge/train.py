"""Training the consistency classifier (`pal train consistency`): its config, the base-encoder lookup and the
fine-tuning loop (AdamW, linear decay, length-bucketed batches), which saves a folder `ConsistencyModel.load` reads.

Silver pairs are built by the caller (pal_core/judge/silver.py) and passed in; this module never reads a silver file.
"""

import importlib.util
import json
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from tqdm.auto import tqdm
from transformers import AutoModelForSequenceClassification, AutoTokenizer, get_linear_schedule_with_warmup

from pal_core.errors import ConfigError, ModelNotFoundError, PalError
from pal_core.inference.models import DEFAULT_EMBEDDER, EMBEDDER_PACKAGE, pick_device
from pal_core.judge.classifier import CLASS_NAMES, LABELS_FILE, ConsistencyModel, default_model_dir, encode_pairs
from pal_core.judge.nli_pairs import NliPair, evaluate_pairs

logger = logging.getLogger(__name__)

METRICS_FILE = "metrics.json"


@dataclass
class ConsistencyConfig:
    """How `train_consistency` fine-tunes the cross-encoder."""

    # Parameters that control the model
    model: str = field(default=DEFAULT_EMBEDDER, metadata={"help": "Base encoder: the default name or a local path."})
    max_length: int = field(default=64, metadata={"help": "Max tokens of response + persona sentence."})
    # Parameters that control training
    lr: float = field(default=4e-5, metadata={"help": "AdamW learning rate (linear decay, 10% warm-up)."})
    epochs: int = field(default=3, metadata={"help": "Passes over the training pairs."})
    batch_size: int = field(default=32, metadata={"help": "Pairs per optimisation step."})
    max_steps: int = field(default=-1, metadata={"help": "Stop after this many steps; -1 = run all epochs."})
    freeze_embeddings: bool = field(default=True, metadata={"help": "Keep the word embeddings fixed (faster)."})
    swap_augment: bool = field(
        default=True,
        metadata={"help": "Also train on every pair with its two sentences swapped (DNLI relations are symmetric)."},
    )
    # Silver pairs: the caller builds them from these fields (silver.build_silver_pairs) and passes them in
    silver: str = field(
        default="",
        metadata={"help": "JSON [[persona sentence, response], ...] entailment pairs (train dialogues only) to add."},
    )
    silver_limit: int = field(
        default=4000, metadata={"help": "Silver pairs per class: entail, mismatched neutral, negated contradict."}
    )
    silver_contradictions: bool = field(
        default=False, metadata={"help": "Also add rule-negated contradiction pairs (lowered dev accuracy)."}
    )
    balance_classes: bool = field(
        default=False, metadata={"help": "Weight the loss by inverse class frequency (for unbalanced training pairs)."}
    )
    seed: int = field(default=0, metadata={"help": "Seed for shuffling and the new head's initialisation."})
    output_dir: str = field(default="", metadata={"help": "Where the model is saved; '' = default_model_dir()."})
    device: str | None = field(default=None, metadata={"help": "cpu, cuda or cuda:N; default cuda if available."})

    def __post_init__(self) -> None:
        if not self.model:
            raise ConfigError(f"ConsistencyConfig.model must be a name or path, got {self.model!r}")
        for name in ("max_length", "epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"ConsistencyConfig.{name} must be >= 1, got {getattr(self, name)}")
        if not 0 < self.lr < 1:
            raise ConfigError(f"ConsistencyConfig.lr must be in (0, 1), got {self.lr}")
        if self.silver_limit < 1:
            raise ConfigError(f"ConsistencyConfig.silver_limit must be >= 1, got {self.silver_limit}")
        if self.max_steps == 0 or self.max_steps < -1:
            raise ConfigError(f"ConsistencyConfig.max_steps must be -1 or >= 1, got {self.max_steps}")
        if self.device is not None:
            pick_device(self.device)  # "cuda" without a GPU fails here, before any data or weights are read


def resolve_encoder_path(name_or_path: str) -> Path:
    """Local folder of the base encoder: the offline MiniLM package for the default name, else an existing path."""
    if name_or_path.lower() == DEFAULT_EMBEDDER:
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
            f"resolve_encoder_path: expected {DEFAULT_EMBEDDER!r} or a local model folder with config.json, "
            f"got {name_or_path!r}"
        )
    return path


def _length_batches(pairs: Sequence[NliPair], batch_size: int, rng: random.Random) -> list[list[NliPair]]:
    """Shuffled batches of similar length: sort within chunks of 50 batches, then shuffle the batch order."""
    order = list(pairs)
    rng.shuffle(order)
    chunk = 50 * batch_size
    batches = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start : start + chunk], key=lambda p: len(p.persona) + len(p.response))
        batches.extend(part[i : i + batch_size] for i in range(0, len(part), batch_size))
    rng.shuffle(batches)
    return batches


def train_consistency(
    train_pairs: Sequence[NliPair],
    dev_pairs: Sequence[NliPair],
    cfg: ConsistencyConfig,
    silver_pairs: Sequence[NliPair] = (),
) -> dict:
    """Fine-tune the cross-encoder on the gold `train_pairs` plus `silver_pairs` (built by the caller from
    cfg.silver), save model + tokenizer + labels + metrics.json to cfg.output_dir, return the metrics."""
    if not train_pairs:
        raise PalError("train_consistency: expected at least one training pair, got none")
    if bool(cfg.silver) != bool(silver_pairs):
        raise ConfigError(
            f"ConsistencyConfig.silver: expected silver pairs passed in exactly when it names a file "
            f"(silver.build_silver_pairs(cfg)), got silver={cfg.silver!r} and {len(silver_pairs)} silver pairs"
        )
    start_time = time.time()
    torch.manual_seed(cfg.seed)
    n_gold, n_silver = len(train_pairs), len(silver_pairs)
    train_pairs = [*train_pairs, *silver_pairs]
    if cfg.swap_augment:
        # DNLI labels relate two sentences' triples (same / unrelated / contradicting), so they hold either way round.
        train_pairs = train_pairs + [NliPair(p.response, p.persona, p.label) for p in train_pairs]
    output_dir = Path(cfg.output_dir) if cfg.output_dir else default_model_dir()
    base = resolve_encoder_path(cfg.model)
    id2label = dict(enumerate(CLASS_NAMES))
    model = AutoModelForSequenceClassification.from_pretrained(
        base, num_labels=3, id2label=id2label, label2id={v: k for k, v in id2label.items()}
    )
    clf = ConsistencyModel(model, AutoTokenizer.from_pretrained(base), max_length=cfg.max_length, device=cfg.device)
    steps_per_epoch = -(-len(train_pairs) // cfg.batch_size)
    total = steps_per_epoch * cfg.epochs if cfg.max_steps < 0 else min(cfg.max_steps, steps_per_epoch * cfg.epochs)
    if cfg.freeze_embeddings:
        # The word-embedding matrix is half of MiniLM's weights; its dense AdamW update dominates a CPU step.
        clf.model.get_input_embeddings().weight.requires_grad_(False)
    params = [p for p in clf.model.parameters() if p.requires_grad]
    class_weight = _class_weights(train_pairs).to(clf.device) if cfg.balance_classes else None
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.01)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(0.1 * total), total)
    history, step = [], 0
    logger.info("training on %d pairs from %s: %d steps, device %s", len(train_pairs), base, total, clf.device)
    progress = tqdm(total=total, desc="train consistency", mininterval=10)
    rng = random.Random(cfg.seed)
    for epoch in range(cfg.epochs):
        clf.model.train()
        running, n_batches = 0.0, 0
        for batch in _length_batches(train_pairs, cfg.batch_size, rng):
            texts = [(p.persona, p.response) for p in batch]
            inputs = encode_pairs(clf.tokenizer, texts, cfg.max_length).to(clf.device)
            labels = torch.tensor([p.label + 1 for p in batch], device=clf.device)
            loss = torch.nn.functional.cross_entropy(clf.model(**inputs).logits, labels, weight=class_weight)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            running += loss.item()
            n_batches += 1
            step += 1
            progress.update(1)
            progress.set_postfix(epoch=epoch + 1, loss=f"{loss.item():.3f}", refresh=False)
            if step >= total:
                break
        clf.model.eval()
        record = {"epoch": epoch + 1, "step": step, "train_loss": running / n_batches}
        if dev_pairs:
            record["dev"] = evaluate_pairs(clf, dev_pairs)
            logger.info("epoch %d: dev accuracy %.4f", epoch + 1, record["dev"]["accuracy"])
        history.append(record)
        # Save after every epoch so a long CPU run that is stopped early still leaves a usable, scored model.
        metrics = {
            "dev_accuracy": record["dev"]["accuracy"] if dev_pairs else None,
            "dev": record.get("dev"),
            "history": history,
            "n_train": len(train_pairs),
            "n_train_gold": n_gold,
            "n_train_silver": n_silver,
            "n_dev": len(dev_pairs),
            "steps": step,
            "wall_time_s": round(time.time() - start_time, 1),
            "base_model": str(base),
            "config": asdict(cfg),
        }
        _save(clf, output_dir, metrics)
        if step >= total:
            break
    progress.close()
    return metrics


def _class_weights(pairs: Sequence[NliPair]) -> torch.Tensor:
    """Per-class loss weights n / (3 * n_class), CLASS_NAMES order: each class then counts as much in total."""
    counts = torch.bincount(torch.tensor([p.label + 1 for p in pairs]), minlength=len(CLASS_NAMES)).float()
    return len(pairs) / (len(CLASS_NAMES) * counts.clamp(min=1))


def _save(clf: ConsistencyModel, output_dir: Path, metrics: dict) -> None:
    output_dir.mkdir(parents=True, exist_ok=True)
    clf.model.save_pretrained(output_dir)
    clf.tokenizer.save_pretrained(output_dir)
    labels_meta = {"classes": list(CLASS_NAMES), "values": [-1, 0, 1], "max_length": clf.max_length}
    labels_meta["input"] = "response [SEP] persona sentence"
    (output_dir / LABELS_FILE).write_text(json.dumps(labels_meta, indent=2))
    (output_dir / METRICS_FILE).write_text(json.dumps(metrics, indent=2))
    logger.info(
        "saved consistency model to %s (epoch %d, %.0f s)", output_dir, len(metrics["history"]), metrics["wall_time_s"]
    )

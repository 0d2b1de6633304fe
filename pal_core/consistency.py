"""Persona-consistency classifier: (persona sentence, response) -> entail (+1) / neutral (0) / contradict (-1).

A cross-encoder: the offline MiniLM (or any local BERT-style checkpoint) with a 3-way classification head, fed the
response as premise and the persona sentence as hypothesis (the order of the Dialogue NLI pairs). Trained by
`pal train consistency`; used by C-score, contradiction pre-flags and `pal label` (PAL's persona_label).
"""

import gzip
import importlib.util
import json
import logging
import os
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from tqdm.auto import tqdm
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    get_linear_schedule_with_warmup,
)

from pal_core.data import Example
from pal_core.errors import ConfigError, DataFormatError, ModelNotFoundError, PalError
from pal_core.models import DEFAULT_EMBEDDER, EMBEDDER_PACKAGE, pick_device

logger = logging.getLogger(__name__)

CLASS_NAMES = ("contradict", "neutral", "entail")  # class id i <-> label value i - 1
FILE_LABELS = {"negative": -1, "neutral": 0, "positive": 1}  # DNLI / rcdg nli-*.txt labels
LABELS_FILE = "labels.json"
METRICS_FILE = "metrics.json"


@dataclass(frozen=True)
class NliPair:
    """One labelled pair; label is +1 entail, 0 neutral, -1 contradict."""

    persona: str
    response: str
    label: int


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


def default_model_dir() -> Path:
    """Where `pal train consistency` saves and everything else loads: $XDG_CACHE_HOME/pal-studio/consistency."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "pal-studio" / "consistency"


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


def load_nli_pairs(path: str | Path) -> list[NliPair]:
    """Read an rcdg/DNLI `sentence</s>sentence</s>label` file (.gz too): utterance first, persona sentence second."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    pairs = []
    with opener(path, "rt", encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            parts = line.split("</s>")
            if len(parts) != 3 or parts[2].strip() not in FILE_LABELS or not parts[0].strip() or not parts[1].strip():
                raise DataFormatError(
                    f"{path}:{lineno}: expected 'sentence</s>sentence</s>label' with label in "
                    f"{'/'.join(FILE_LABELS)}, got {line[:80]!r}"
                )
            pairs.append(
                NliPair(persona=parts[1].strip(), response=parts[0].strip(), label=FILE_LABELS[parts[2].strip()])
            )
    if not pairs:
        raise DataFormatError(f"{path}: expected at least one pair, got an empty file")
    return pairs


def _length_batches(pairs: list[NliPair], batch_size: int, rng: random.Random) -> list[list[NliPair]]:
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


def _encode(
    tokenizer: PreTrainedTokenizerBase, pairs: list[tuple[str, str]], max_length: int
) -> dict[str, torch.Tensor]:
    """Tokenise (persona, response) pairs as response [SEP] persona, padded to the longest in the batch."""
    return tokenizer(
        [r for _, r in pairs],
        [p for p, _ in pairs],
        truncation=True,
        max_length=max_length,
        padding=True,
        return_tensors="pt",
    )


class ConsistencyModel:
    """A trained cross-encoder with batched inference; labels are +1 entail, 0 neutral, -1 contradict."""

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        *,
        max_length: int = 64,
        device: str | torch.device | None = None,
    ) -> None:
        self.device = device if isinstance(device, torch.device) else pick_device(device)
        self.model = model.to(self.device).eval()
        self.tokenizer = tokenizer
        self.max_length = max_length

    default_model_dir = staticmethod(default_model_dir)

    @classmethod
    def load(cls, path: str | Path | None = None, *, device: str | None = None) -> "ConsistencyModel":
        """Load a directory written by `train_consistency` (default: default_model_dir())."""
        path = Path(path) if path else default_model_dir()
        if not (path / LABELS_FILE).is_file():
            raise ModelNotFoundError(
                f"ConsistencyModel.load: expected a trained consistency model in {path} "
                f"(create it with `pal train consistency --train ... --dev ...`), got no {LABELS_FILE} there"
            )
        meta = json.loads((path / LABELS_FILE).read_text())
        model = AutoModelForSequenceClassification.from_pretrained(path)
        return cls(model, AutoTokenizer.from_pretrained(path), max_length=meta["max_length"], device=device)

    @torch.inference_mode()
    def predict_proba(self, pairs: list[tuple[str, str]], batch_size: int = 64) -> list[list[float]]:
        """Class probabilities per (persona, response) pair, columns in CLASS_NAMES order (contradict, neutral, entail)."""
        # Run length-sorted batches (little padding), then put the rows back in input order.
        order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
        out: list[list[float]] = [[] for _ in pairs]
        for start in range(0, len(order), batch_size):
            ids = order[start : start + batch_size]
            batch = _encode(self.tokenizer, [pairs[i] for i in ids], self.max_length).to(self.device)
            for i, row in zip(ids, self.model(**batch).logits.float().softmax(-1).tolist(), strict=True):
                out[i] = row
        return out

    def predict(self, pairs: list[tuple[str, str]], batch_size: int = 64) -> list[int]:
        """Label per (persona, response) pair: +1 entail, 0 neutral, -1 contradict."""
        return [max(range(3), key=row.__getitem__) - 1 for row in self.predict_proba(pairs, batch_size)]

    def _per_sentence(
        self, personas: list[list[str]], responses: list[str], batch_size: int
    ) -> list[list[list[float]]]:
        if len(personas) != len(responses):
            raise PalError(
                f"ConsistencyModel: expected one persona per response, got {len(personas)} and {len(responses)}"
            )
        flat = [(s, r) for persona, r in zip(personas, responses, strict=True) for s in persona]
        probs = iter(self.predict_proba(flat, batch_size))
        return [[next(probs) for _ in persona] for persona in personas]

    def score_responses(
        self, personas: list[list[str]], responses: list[str], batch_size: int = 64
    ) -> list[list[int]]:
        """For each response, the label of each of its persona sentences."""
        nested = self._per_sentence(personas, responses, batch_size)
        return [[max(range(3), key=row.__getitem__) - 1 for row in rows] for rows in nested]

    def c_score(self, personas: list[list[str]], responses: list[str], batch_size: int = 64) -> float:
        """C-score: per response the max label over its persona sentences, averaged over responses."""
        from pal_core.metrics import load_metric  # imported here: `evaluate` is slow to import and only this needs it

        labels = self.score_responses(personas, responses, batch_size)
        return float(load_metric("c_score").compute(predictions=labels)["c_score"])

    def contradiction_flags(self, persona: list[str], response: str, threshold: float | None = None) -> list[float]:
        """Contradiction probability per persona sentence; with a threshold, values below it become 0.0 (unticked)."""
        probs = [row[0] for row in self._per_sentence([list(persona)], [response], 64)[0]]
        return probs if threshold is None else [p if p >= threshold else 0.0 for p in probs]

    def label_persona_usage(
        self, examples: Sequence[Example], threshold: float = 0.9, batch_size: int = 64
    ) -> list[tuple[int, ...]]:
        """PAL's persona_label per example: indices whose entail probability >= threshold, else (-1,)."""
        nested = self._per_sentence([list(e.persona) for e in examples], [e.response for e in examples], batch_size)
        labels = [tuple(i for i, row in enumerate(rows) if row[2] >= threshold) for rows in nested]
        return [label or (-1,) for label in labels]


def evaluate_pairs(model: ConsistencyModel, pairs: list[NliPair], batch_size: int = 64) -> dict:
    """Accuracy, per-class recall and the confusion matrix (rows gold, columns predicted, CLASS_NAMES order)."""
    predicted = model.predict([(p.persona, p.response) for p in pairs], batch_size)
    confusion = [[0, 0, 0] for _ in CLASS_NAMES]
    for pair, label in zip(pairs, predicted, strict=True):
        confusion[pair.label + 1][label + 1] += 1
    per_class = {
        name: row[i] / sum(row) if sum(row) else 0.0
        for i, (name, row) in enumerate(zip(CLASS_NAMES, confusion, strict=True))
    }
    correct = sum(confusion[i][i] for i in range(3))
    return {"accuracy": correct / len(pairs), "per_class_accuracy": per_class, "confusion": confusion, "n": len(pairs)}


def train_consistency(train_pairs: list[NliPair], dev_pairs: list[NliPair], cfg: ConsistencyConfig) -> dict:
    """Fine-tune the cross-encoder, save model + tokenizer + labels + metrics.json to cfg.output_dir, return metrics."""
    if not train_pairs:
        raise PalError("train_consistency: expected at least one training pair, got none")
    start_time = time.time()
    torch.manual_seed(cfg.seed)
    n_gold = len(train_pairs)
    if cfg.silver:
        from pal_core import silver  # imported here: silver builds on this module's NliPair

        extra = silver.load_entailed_pairs(cfg.silver)
        train_pairs = train_pairs + silver.silver_pairs(
            extra, cfg.silver_limit, contradictions=cfg.silver_contradictions, seed=cfg.seed
        )
    n_silver = len(train_pairs) - n_gold
    if cfg.swap_augment:
        # DNLI labels relate two sentences' triples (same / unrelated / contradicting), so they hold either way round.
        train_pairs = train_pairs + [NliPair(p.response, p.persona, p.label) for p in train_pairs]
    output_dir = Path(cfg.output_dir) if cfg.output_dir else default_model_dir()
    base = resolve_encoder_path(cfg.model)
    id2label = dict(enumerate(CLASS_NAMES))
    model = AutoModelForSequenceClassification.from_pretrained(
        base, num_labels=3, id2label=id2label, label2id={v: k for k, v in id2label.items()}
    )
    clf = ConsistencyModel(model, AutoTokenizer.from_pretrained(base), max_length=cfg.max_length)
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
            inputs = _encode(clf.tokenizer, [(p.persona, p.response) for p in batch], cfg.max_length).to(clf.device)
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


def _class_weights(pairs: list[NliPair]) -> torch.Tensor:
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

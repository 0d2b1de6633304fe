"""Persona-consistency classifier at inference: (persona sentence, response) -> entail (+1) / neutral (0) /
contradict (-1).

A cross-encoder (the offline MiniLM or any local BERT-style checkpoint with a 3-way head) fed the response as premise
and the persona sentence as hypothesis. `ConsistencyModel` scores pairs in length-sorted batches for C-score,
contradiction pre-flags, the NLI selector and `pal label`; `label_examples` spreads labelling over `accelerate`
processes. Reading and scoring NLI files: nli_pairs.py; training (`pal train consistency`): train.py.
"""

import json
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from pal_core.data.loaders import Example
from pal_core.errors import ModelNotFoundError, PalError
from pal_core.inference import distributed
from pal_core.inference.models import pick_device

CLASS_NAMES = ("contradict", "neutral", "entail")  # class id i <-> label value i - 1
LABELS_FILE = "labels.json"


def default_model_dir() -> Path:
    """Where `pal train consistency` saves and everything else loads: $XDG_CACHE_HOME/pal-studio/consistency."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "pal-studio" / "consistency"


def encode_pairs(
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
        self.device = pick_device(str(device) if isinstance(device, torch.device) else device)
        self.model = model.to(self.device).eval()
        self.tokenizer = tokenizer
        self.max_length = max_length

    @classmethod
    def load(cls, path: str | Path | None = None, *, device: str | None = None) -> "ConsistencyModel":
        """Load a directory written by `train.train_consistency` (default: default_model_dir()) onto
        `device` (cpu, cuda, cuda:N; default cuda when available)."""
        torch_device = pick_device(device)  # a bad or unavailable device fails first, even without a model
        path = Path(path) if path else default_model_dir()
        if not (path / LABELS_FILE).is_file():
            raise ModelNotFoundError(
                f"ConsistencyModel.load: expected a trained consistency model in {path} "
                f"(create it with `pal train consistency --train ... --dev ...`), got no {LABELS_FILE} there"
            )
        meta = json.loads((path / LABELS_FILE).read_text())
        model = AutoModelForSequenceClassification.from_pretrained(path)
        return cls(model, AutoTokenizer.from_pretrained(path), max_length=meta["max_length"], device=torch_device)

    @torch.inference_mode()
    def predict_proba(self, pairs: list[tuple[str, str]], batch_size: int = 64) -> list[list[float]]:
        """Class probabilities per (persona, response) pair, columns in CLASS_NAMES order (contradict, neutral, entail)."""
        # Run length-sorted batches (little padding), then put the rows back in input order.
        order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
        out: list[list[float]] = [[] for _ in pairs]
        for start in range(0, len(order), batch_size):
            ids = order[start : start + batch_size]
            batch = encode_pairs(self.tokenizer, [pairs[i] for i in ids], self.max_length).to(self.device)
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
        from pal_core.analysis.metrics import (
            load_metric,  # imported here: `evaluate` is slow to import and only this needs it
        )

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


def label_examples(
    model: ConsistencyModel, examples: Sequence[Example], threshold: float = 0.9, batch_size: int = 64
) -> list[Example]:
    """`examples` with persona_label filled by `label_persona_usage`; under `accelerate launch` each process labels a
    contiguous shard and every process gets all examples back, in input order."""
    labels = distributed.map_sharded(lambda part: model.label_persona_usage(part, threshold, batch_size), examples)
    return [replace(e, persona_label=label) for e, label in zip(examples, labels, strict=True)]

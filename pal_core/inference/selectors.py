"""Persona selectors (the "Select" of Select-then-Generate) behind one interface, `select(batch) -> list[Selection]`,
their settings (`SelectConfig`) and the registry `SELECTORS` / `get_selector`.

Each selection holds the chosen 0-based persona index (-1 = none) and one score per persona sentence plus one for
"none", so the inspector can show a distribution. Selectors get their models from the caller; none loads anything.
The LM selector is in `lm_selector.py`; embedding similarity, NLI, the oracle and "none" are here.
"""

from __future__ import annotations

from typing import Any

import torch

from pal_core.data.loaders import Example
from pal_core.errors import ConfigError, DataFormatError, UnknownNameError
from pal_core.inference.config import SelectConfig
from pal_core.inference.lm_selector import LMSelector
from pal_core.inference.selection import Selection, Selector, make_selection, one_hot
from pal_core.judge.classifier import CLASS_NAMES


def _query_text(ex: Example, use_full_history: bool) -> str:
    if not ex.history:
        return ""
    return " ".join(ex.history) if use_full_history else ex.history[-1]


class _ThresholdSelector:
    """Embedding and NLI selection: `model` scores every persona sentence against the history (`select` of the
    subclass), then each example takes its best sentence, or none when that score is under the threshold (which is
    also the "none" score)."""

    default_threshold = 0.5

    def __init__(self, model: Any, config: SelectConfig) -> None:
        self.model, self.config = model, config
        self.threshold = config.threshold if config.threshold is not None else self.default_threshold

    def _queries(self, batch: list[Example]) -> list[str]:
        return [_query_text(ex, self.config.use_full_history) for ex in batch]

    def _pick(self, batch: list[Example], flat: list[float]) -> list[Selection]:
        """`flat` holds one score per persona sentence of the batch, in order."""
        out, start = [], 0
        for ex in batch:
            scores = flat[start : start + len(ex.persona)]
            start += len(ex.persona)
            best = max(range(len(scores)), key=scores.__getitem__) if scores else -1
            index = best if scores and scores[best] >= self.threshold else -1
            out.append(make_selection(index, scores + [self.threshold], ex.persona))
        return out


class EmbeddingSelector(_ThresholdSelector):
    """Cosine similarity (sentence embeddings, MiniLM by default) between the history and each persona sentence;
    `model` is the sentence embedder."""

    default_threshold = 0.35

    def select(self, batch: list[Example]) -> list[Selection]:
        sentences = [s for ex in batch for s in ex.persona]
        q = self.model.encode(self._queries(batch), batch_size=64, convert_to_tensor=True, normalize_embeddings=True)
        p = self.model.encode(sentences, batch_size=64, convert_to_tensor=True, normalize_embeddings=True)
        owner = torch.tensor([i for i, ex in enumerate(batch) for _ in ex.persona], device=q.device, dtype=torch.long)
        return self._pick(batch, (p * q[owner]).sum(-1).float().cpu().tolist() if sentences else [])


_ENTAIL = CLASS_NAMES.index("entail")  # predict_proba columns follow CLASS_NAMES


class NLISelector(_ThresholdSelector):
    """Entailment probability of (persona sentence, history) from the consistency model (`model`)."""

    default_threshold = 0.5

    def select(self, batch: list[Example]) -> list[Selection]:
        queries = self._queries(batch)
        pairs = [(s, query) for ex, query in zip(batch, queries, strict=True) for s in ex.persona]
        probs = self.model.predict_proba(pairs) if pairs else []
        return self._pick(batch, [float(row[_ENTAIL]) for row in probs])


class OracleSelector:
    """The gold label (its first index): an upper bound that needs labelled examples."""

    def select(self, batch: list[Example]) -> list[Selection]:
        out = []
        for ex in batch:
            if not ex.persona_label:
                raise DataFormatError(
                    f"oracle selector: example {ex.id}: expected a gold persona_label, got {ex.persona_label!r}"
                )
            index = ex.persona_label[0]
            out.append(make_selection(index, one_hot(index, len(ex.persona)), ex.persona))
        return out


class NoneSelector:
    """Always picks no persona sentence."""

    def select(self, batch: list[Example]) -> list[Selection]:
        return [make_selection(-1, one_hot(-1, len(ex.persona)), ex.persona) for ex in batch]


def _build_lm(config: SelectConfig, model: Any, tokenizer: Any, embedder: Any, consistency: Any) -> Selector:
    if model is None or tokenizer is None:
        raise ConfigError("get_selector('lm'): expected model and tokenizer, got None")
    return LMSelector(
        model,
        tokenizer,
        batch_size=config.select_batch_size,
        mode=config.lm_mode,
        reduction=config.lm_reduction,
        prefix_cache=config.lm_prefix_cache,
        none_bias=config.lm_none_bias,
    )


def _build_embedding(config: SelectConfig, model: Any, tokenizer: Any, embedder: Any, consistency: Any) -> Selector:
    if embedder is None:
        raise ConfigError("get_selector('embedding'): expected an embedder (models.load_embedder()), got None")
    return EmbeddingSelector(embedder, config)


def _build_nli(config: SelectConfig, model: Any, tokenizer: Any, embedder: Any, consistency: Any) -> Selector:
    if consistency is None:
        raise ConfigError("get_selector('nli'): expected a consistency model (ConsistencyModel.load), got None")
    return NLISelector(consistency, config)


SELECTORS = {
    "embedding": _build_embedding,
    "lm": _build_lm,
    "nli": _build_nli,
    "none": lambda config, model, tokenizer, embedder, consistency: NoneSelector(),
    "oracle": lambda config, model, tokenizer, embedder, consistency: OracleSelector(),
}


def get_selector(
    name: str,
    *,
    config: SelectConfig | None = None,
    model: Any = None,
    tokenizer: Any = None,
    embedder: Any = None,
    consistency: Any = None,
) -> Selector:
    """Build the named selector from the resources it needs (the others are ignored)."""
    if name not in SELECTORS:
        raise UnknownNameError(f"unknown persona selector {name!r}; available: {', '.join(sorted(SELECTORS))}")
    config = config if config is not None else SelectConfig(selector=name)
    return SELECTORS[name](config, model, tokenizer, embedder, consistency)

"""Batched generation and the dialogue systems built on it (persona-free, full persona, gold persona, Select-then-Generate).

`generate_texts` knows nothing about personas: it turns rendered prompts into replies (left padding, length-sorted
batches, greedy or sampling). `run_system` builds each system's prompts and returns run-directory output rows.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch

from pal_core import prompts
from pal_core.data import Example
from pal_core.errors import ConfigError, UnknownNameError

if TYPE_CHECKING:
    from pal_core.select import Selection, Selector

logger = logging.getLogger(__name__)


@dataclass
class GenerationConfig:
    """Decoding settings shared by every system."""

    max_new_tokens: int = field(default=32, metadata={"help": "New tokens per reply."})
    batch_size: int = field(default=32, metadata={"help": "Prompts per generate() call."})
    do_sample: bool = field(default=False, metadata={"help": "Sample instead of greedy decoding."})
    temperature: float = field(default=0.7, metadata={"help": "Sampling temperature (do_sample only)."})
    top_p: float = field(default=0.9, metadata={"help": "Nucleus sampling mass (do_sample only)."})
    seed: int = field(default=0, metadata={"help": "Torch seed set before generating."})

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ConfigError(f"GenerationConfig.max_new_tokens: expected >= 1, got {self.max_new_tokens}")
        if self.batch_size < 1:
            raise ConfigError(f"GenerationConfig.batch_size: expected >= 1, got {self.batch_size}")
        if self.temperature <= 0:
            raise ConfigError(f"GenerationConfig.temperature: expected > 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ConfigError(f"GenerationConfig.top_p: expected in (0, 1], got {self.top_p}")


def _eos_ids(model: Any, tokenizer: Any) -> set[int]:
    ids = {tokenizer.eos_token_id} if tokenizer.eos_token_id is not None else set()
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    if isinstance(configured, int):
        ids.add(configured)
    elif configured:
        ids.update(configured)
    return ids


def _clean(ids: list[int], tokenizer: Any, eos: set[int]) -> str:
    """Cut at the first end-of-turn token, decode without special tokens, keep the first line."""
    for pos, token in enumerate(ids):
        if token in eos:
            ids = ids[:pos]
            break
    text = tokenizer.decode(ids, skip_special_tokens=True)
    return text.strip().split("\n", 1)[0].strip()


@torch.inference_mode()
def generate_timed(
    model: Any, tokenizer: Any, prompts_: list[str], cfg: GenerationConfig
) -> tuple[list[str], list[float]]:
    """Replies in input order and each one's share of its batch's wall time (seconds)."""
    if not prompts_:
        return [], []
    torch.manual_seed(cfg.seed)
    lengths = [len(tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts_]
    order = sorted(range(len(prompts_)), key=lambda i: -lengths[i])  # similar lengths share a batch: less padding
    eos = _eos_ids(model, tokenizer)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else next(iter(eos), 0)
    sampling = {"temperature": cfg.temperature, "top_p": cfg.top_p} if cfg.do_sample else {}
    texts: list[str] = [""] * len(prompts_)
    times: list[float] = [0.0] * len(prompts_)
    for start in range(0, len(order), cfg.batch_size):
        idx = order[start : start + cfg.batch_size]
        began = time.perf_counter()
        enc = tokenizer(
            [prompts_[i] for i in idx],
            return_tensors="pt",
            padding=True,
            padding_side="left",
            add_special_tokens=False,
        ).to(model.device)
        out = model.generate(
            input_ids=enc["input_ids"],
            attention_mask=enc["attention_mask"],
            max_new_tokens=cfg.max_new_tokens,
            do_sample=cfg.do_sample,
            pad_token_id=pad_id,
            eos_token_id=sorted(eos) or None,
            **sampling,
        )
        new_tokens = out[:, enc["input_ids"].shape[1] :].tolist()
        share = (time.perf_counter() - began) / len(idx)
        for i, ids in zip(idx, new_tokens, strict=True):
            texts[i] = _clean(ids, tokenizer, eos)
            times[i] = share
        logger.debug("generated batch of %d in %.2fs", len(idx), share * len(idx))
    return texts, times


def generate_texts(model: Any, tokenizer: Any, prompts_: list[str], cfg: GenerationConfig) -> list[str]:
    """One reply per rendered prompt, in input order."""
    return generate_timed(model, tokenizer, prompts_, cfg)[0]


@dataclass(frozen=True)
class SystemSpec:
    """A dialogue system: how it builds a prompt, and whether (and how) it selects a persona sentence first."""

    build_messages: Callable[[Example, str | None], list[dict]]
    selects: str  # "no" (no selection), "gold" (oracle labels) or "selector" (the caller's selector)
    help: str


SYSTEMS: dict[str, SystemSpec] = {
    "persona_free": SystemSpec(
        lambda ex, s: prompts.persona_free_messages(ex.history), "no", "history only (the PAL rejected side)"
    ),
    "full_persona": SystemSpec(
        lambda ex, s: prompts.full_persona_messages(ex.persona, ex.history), "no", "whole persona in the prompt"
    ),
    "gold_persona": SystemSpec(
        lambda ex, s: prompts.generate_messages(ex.persona, ex.history, s),
        "gold",
        "generate prompt with the gold persona sentence (oracle upper bound; needs labels)",
    ),
    "select_then_generate": SystemSpec(
        lambda ex, s: prompts.generate_messages(ex.persona, ex.history, s),
        "selector",
        "the selector's sentence (never the gold one) in the generate prompt",
    ),
}


def get_system(name: str) -> SystemSpec:
    """The registered system, or UnknownNameError listing the known ones."""
    if name not in SYSTEMS:
        raise UnknownNameError(f"unknown system {name!r}; available: {', '.join(sorted(SYSTEMS))}")
    return SYSTEMS[name]


def _select_timed(selector: Selector, examples: list[Example], batch_size: int) -> tuple[list[Selection], list[float]]:
    selections, times = [], []
    for start in range(0, len(examples), batch_size):
        batch = examples[start : start + batch_size]
        began = time.perf_counter()
        selections.extend(selector.select(batch))
        times.extend([(time.perf_counter() - began) / len(batch)] * len(batch))
    return selections, times


def build_prompts(name: str, examples: list[Example], tokenizer: Any, selections: list[Selection] | None) -> list[str]:
    """Rendered prompts of system `name`; `selections` (one per example) is required when the system selects."""
    spec = get_system(name)
    sentences = [s.sentence for s in selections] if selections is not None else [None] * len(examples)
    return [
        prompts.render_prompt(tokenizer, spec.build_messages(ex, s)) for ex, s in zip(examples, sentences, strict=True)
    ]


def run_system(
    name: str,
    examples: list[Example],
    model: Any,
    tokenizer: Any,
    gen_cfg: GenerationConfig,
    selector: Selector | None = None,
) -> list[dict]:
    """Run a system over examples; rows follow outputs.jsonl of the run directory (docs/interfaces.md)."""
    from pal_core.select import OracleSelector

    spec = get_system(name)
    if spec.selects == "selector" and selector is None:
        raise ConfigError(f"run_system({name!r}): expected a selector, got None")
    active = OracleSelector() if spec.selects == "gold" else selector if spec.selects == "selector" else None
    selections, select_times = (None, [0.0] * len(examples))
    if active is not None:
        selections, select_times = _select_timed(active, examples, gen_cfg.batch_size)
    texts, gen_times = generate_timed(model, tokenizer, build_prompts(name, examples, tokenizer, selections), gen_cfg)
    rows = []
    for i, (ex, text) in enumerate(zip(examples, texts, strict=True)):
        sel = selections[i] if selections is not None else None
        rows.append(
            {
                "id": ex.id,
                "dialogue_id": ex.dialogue_id,
                "turn": ex.turn,
                "persona": list(ex.persona),
                "history": list(ex.history),
                "reference": ex.response,
                "response": text,
                "gold_label": list(ex.persona_label) if ex.persona_label is not None else None,
                "selected_index": sel.index if sel else None,
                "selected_sentence": sel.sentence if sel else None,
                "scores": [round(x, 6) for x in sel.scores] if sel else None,
                "contradiction": None,
                "time_s": round(select_times[i] + gen_times[i], 6),
            }
        )
    logger.info("system %s: %d rows", name, len(rows))
    return rows


def select_then_generate(
    examples: list[Example], selector: Selector, model: Any, tokenizer: Any, gen_cfg: GenerationConfig
) -> list[dict]:
    """PAL inference: the selector's sentence (never the gold one) goes into the generate prompt."""
    return run_system("select_then_generate", examples, model, tokenizer, gen_cfg, selector=selector)

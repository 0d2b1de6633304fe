"""Dialogue systems: persona-free, whole persona, gold persona (oracle) and Select-then-Generate (PAL inference).

Each system is a prompt builder plus how it picks a persona sentence (none, the gold label, or a selector).
`run_system` runs one over examples and returns run-directory rows. This module sits above `select` and `generate`,
which never import it or each other's systems.

Select-then-Generate with the LM selector shares one prefill between its two prompts: the select and generate prompts
start with the same persona + history tokens, so that prefix runs once per example and both the candidate scoring
and the generation branch from its KV cache (`share_prefill`, default on; the two-pass path is kept as the fallback
and the reference: tests and bench/stg_bench.py pin the two to the same selections and replies).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch

from pal_core.data.loaders import Example
from pal_core.errors import ConfigError, UnknownNameError
from pal_core.inference import kvcache, prompts
from pal_core.inference.generate import GenerationConfig, generate_after, generate_timed
from pal_core.inference.lm_selector import LMSelector
from pal_core.inference.selection import Selection, Selector
from pal_core.inference.selectors import OracleSelector

logger = logging.getLogger(__name__)


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
    *,
    share_prefill: bool = True,
) -> list[dict]:
    """Run a system over examples; rows follow outputs.jsonl of the run directory (docs/interfaces.md).

    `share_prefill`: Select-then-Generate with the LM selector (score mode, prefix cache on) computes the shared
    persona + history prefix once for both prompts; False runs the select and generate prompts separately."""
    spec = get_system(name)
    if spec.selects == "selector" and selector is None:
        raise ConfigError(f"run_system({name!r}): expected a selector, got None")
    active = OracleSelector() if spec.selects == "gold" else selector if spec.selects == "selector" else None
    shared = None
    if share_prefill and spec.selects == "selector" and _can_share_prefill(active):
        shared = _select_then_generate_shared(examples, active, model, tokenizer, gen_cfg)
    if shared is not None:
        selections, texts, select_times = shared
        gen_times = [0.0] * len(examples)
    else:
        selections, select_times = (None, [0.0] * len(examples))
        if active is not None:
            selections, select_times = _select_timed(active, examples, gen_cfg.batch_size)
        prompts_ = build_prompts(name, examples, tokenizer, selections)
        texts, gen_times = generate_timed(model, tokenizer, prompts_, gen_cfg)
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
    examples: list[Example],
    selector: Selector,
    model: Any,
    tokenizer: Any,
    gen_cfg: GenerationConfig,
    *,
    share_prefill: bool = True,
) -> list[dict]:
    """PAL inference: the selector's sentence (never the gold one) goes into the generate prompt."""
    return run_system(
        "select_then_generate", examples, model, tokenizer, gen_cfg, selector=selector, share_prefill=share_prefill
    )


def _can_share_prefill(selector: Selector | None) -> bool:
    return (
        isinstance(selector, LMSelector)
        and selector.mode == "score"
        and selector.prefix_cache
        and selector.model is not None
    )


def _ids(tokenizer: Any, messages: list[dict]) -> list[int]:
    return tokenizer(prompts.render_prompt(tokenizer, messages), add_special_tokens=False)["input_ids"]


def _shared_length(tokenizer: Any, ex: Example, select_ids: list[int]) -> int:
    """Tokens the select prompt shares with every generate prompt of the example (persona + history): the common
    prefix with the "none" generate prompt and with a sentence one (their texts differ from the same point on)."""
    none_ids = _ids(tokenizer, prompts.generate_messages(ex.persona, ex.history, None))
    some_ids = _ids(tokenizer, prompts.generate_messages(ex.persona, ex.history, ex.persona[0] if ex.persona else ""))
    n = min(kvcache.common_prefix_length(select_ids, none_ids), kvcache.common_prefix_length(select_ids, some_ids))
    return min(n, len(select_ids) - 1, len(none_ids) - 1, len(some_ids) - 1)


def _select_then_generate_shared(
    examples: list[Example], selector: LMSelector, model: Any, tokenizer: Any, gen_cfg: GenerationConfig
) -> tuple[list[Selection], list[str], list[float]] | None:
    """Selections, replies and per-example seconds with one prefill of the shared prefix per example; None when the
    model gives no cache that can be branched or a prompt shares no prefix (the caller then takes two passes)."""
    select_ids = [selector.prompt_ids(ex) for ex in examples]
    shared = [_shared_length(tokenizer, ex, ids) for ex, ids in zip(examples, select_ids, strict=True)]
    if min(shared, default=0) < 1:
        return None
    torch.manual_seed(gen_cfg.seed)
    order = sorted(range(len(examples)), key=lambda i: -len(select_ids[i]))  # similar lengths share a batch
    selections: list[Selection | None] = [None] * len(examples)
    texts, times = [""] * len(examples), [0.0] * len(examples)
    pad_id = selector.pad_id()
    for start in range(0, len(order), gen_cfg.batch_size):
        idx = order[start : start + gen_cfg.batch_size]
        began = time.perf_counter()
        prefix = kvcache.run_block(model, [select_ids[i][: shared[i]] for i in idx], pad_id)
        if prefix is None:
            return None
        for sub in range(0, len(idx), selector.batch_size):
            rows = list(range(sub, min(sub + selector.batch_size, len(idx))))
            chunk = [examples[idx[r]] for r in rows]
            suffixes = [select_ids[idx[r]][shared[idx[r]] :] for r in rows]
            for r, sel in zip(rows, selector.select_after(prefix, rows, chunk, suffixes), strict=True):
                selections[idx[r]] = sel
        suffixes = []
        for i in idx:
            ex, sentence = examples[i], selections[i].sentence
            gen_ids = _ids(tokenizer, prompts.generate_messages(ex.persona, ex.history, sentence))
            if gen_ids[: shared[i]] != select_ids[i][: shared[i]]:  # the template broke the shared prefix
                return None
            suffixes.append(gen_ids[shared[i] :])
        for i, text in zip(idx, generate_after(model, tokenizer, prefix, suffixes, gen_cfg), strict=True):
            texts[i] = text
            times[i] = (time.perf_counter() - began) / len(idx)
    return selections, texts, times


def stream_select_then_generate(
    example: Example, selector: LMSelector, model: Any, tokenizer: Any, gen_cfg: GenerationConfig
) -> tuple[Selection, Iterator[str]]:
    """One Select-then-Generate reply for a chat: the selection first (after one shared prefill), then the reply as
    an iterator of text pieces while it is generated (greedy, stops at the end of the line). Models without a
    branchable cache take the two-pass path and yield the whole reply at once."""
    select_ids = selector.prompt_ids(example)
    shared = _shared_length(tokenizer, example, select_ids)
    prefix = kvcache.run_block(model, [select_ids[:shared]], selector.pad_id()) if shared >= 1 else None
    if prefix is None:
        row = run_system("select_then_generate", [example], model, tokenizer, gen_cfg, selector, share_prefill=False)
        selection = Selection(row[0]["selected_index"], row[0]["scores"], row[0]["selected_sentence"])
        return selection, iter([row[0]["response"]])
    selection = selector.select_after(prefix, [0], [example], [select_ids[shared:]])[0]
    gen_ids = _ids(tokenizer, prompts.generate_messages(example.persona, example.history, selection.sentence))
    from transformers import TextIteratorStreamer

    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=120)
    worker = threading.Thread(
        target=generate_after,
        args=(model, tokenizer, prefix, [gen_ids[shared:]], gen_cfg),
        kwargs={"streamer": streamer},
        daemon=True,
    )
    worker.start()

    def pieces() -> Iterator[str]:
        started = False
        for piece in streamer:
            text = piece.split("\n", 1)[0]
            if not started:  # the reply starts at its first visible character
                text = text.lstrip()
                started = bool(text)
            if text:
                yield text
            if "\n" in piece:
                break
        worker.join()

    return selection, pieces()

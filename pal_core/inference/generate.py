"""Batched generation: rendered prompts (or a cached prefix plus suffixes) in, replies out.

`generate_texts` knows nothing about personas: it turns rendered prompts into replies (left padding, length-sorted
batches, greedy or sampling); `generate_after` continues prompts whose shared prefix is already in a KV cache.
The dialogue systems built on it live in `pal_core.inference.systems`.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import torch

from pal_core.inference import kvcache
from pal_core.inference.config import GenerationConfig

logger = logging.getLogger(__name__)


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


def _decoding(model: Any, tokenizer: Any, cfg: GenerationConfig) -> tuple[set[int], dict[str, Any]]:
    """End-of-turn ids and the generate() arguments every batch shares."""
    eos = _eos_ids(model, tokenizer)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else next(iter(eos), 0)
    kwargs: dict[str, Any] = {
        "max_new_tokens": cfg.max_new_tokens,
        "do_sample": cfg.do_sample,
        "pad_token_id": pad_id,
        "eos_token_id": sorted(eos) or None,
    }
    if cfg.do_sample:
        kwargs.update(temperature=cfg.temperature, top_p=cfg.top_p)
    return eos, kwargs


@torch.inference_mode()
def generate_timed(
    model: Any, tokenizer: Any, prompts_: list[str], cfg: GenerationConfig
) -> tuple[list[str], list[float]]:
    """Replies in input order and each one's share of its batch's wall time (seconds)."""
    if not prompts_:
        return [], []
    torch.manual_seed(cfg.seed)
    prompt_ids = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts_]
    order = sorted(range(len(prompts_)), key=lambda i: -len(prompt_ids[i]))  # similar lengths share a batch
    eos, kwargs = _decoding(model, tokenizer, cfg)
    texts: list[str] = [""] * len(prompts_)
    times: list[float] = [0.0] * len(prompts_)
    for start in range(0, len(order), cfg.batch_size):
        idx = order[start : start + cfg.batch_size]
        began = time.perf_counter()
        batch_ids, pad_id = [prompt_ids[i] for i in idx], kwargs["pad_token_id"]
        state = kvcache.run_block(model, batch_ids, pad_id) if cfg.greedy_early_exit else None
        if state is not None:
            new_tokens = greedy_after(model, tokenizer, state, cfg.max_new_tokens, eos, pad_id)
        else:  # sampling, the reference path, or a model whose cache cannot drop rows: transformers' generate
            ids, mask = kvcache.pad(batch_ids, pad_id, left=True)
            out = model.generate(input_ids=ids.to(model.device), attention_mask=mask.to(model.device), **kwargs)
            new_tokens = out[:, ids.shape[1] :].tolist()
        share = (time.perf_counter() - began) / len(idx)
        for i, ids in zip(idx, new_tokens, strict=True):
            texts[i] = _clean(ids, tokenizer, eos)
            times[i] = share
        logger.debug("generated batch of %d in %.2fs", len(idx), share * len(idx))
    return texts, times


class _LineEnds:
    """Whether a reply's token ids already hold its whole first line (the only line `_clean` keeps): the last token
    has a new line in it and some text stands before that new line. Per-token answers are cached."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer, self.has_newline = tokenizer, {}

    def __call__(self, ids: list[int]) -> bool:
        last = ids[-1]
        if last not in self.has_newline:
            self.has_newline[last] = "\n" in self.tokenizer.decode([last])
        return self.has_newline[last] and "\n" in self.tokenizer.decode(ids, skip_special_tokens=True).lstrip()


@torch.inference_mode()
def greedy_after(
    model: Any, tokenizer: Any, state: kvcache.Prefix, max_new_tokens: int, eos: set[int], pad_id: int
) -> list[list[int]]:
    """Greedy new tokens for every row of `state` (a prompt already run, its last logits known). A row stops at an
    end-of-turn token, once its first line is complete, or after `max_new_tokens`, and then leaves the batch:
    transformers' generate keeps computing finished rows until the longest one ends, and replies are one line."""
    out: list[list[int]] = [[] for _ in range(state.ids.shape[0])]
    active = list(range(len(out)))  # the reply each row of `state` belongs to
    line_ends = _LineEnds(tokenizer)
    for step in range(max_new_tokens):
        tokens = state.last_logits.float().argmax(-1).tolist()
        keep = []
        for r, (reply, token) in enumerate(zip(active, tokens, strict=True)):
            out[reply].append(token)
            if token not in eos and not line_ends(out[reply]):
                keep.append(r)
        if not keep or step == max_new_tokens - 1:
            break
        if len(keep) < len(active):
            state = kvcache.branch(state, torch.tensor(keep))
            active, tokens = [active[r] for r in keep], [tokens[r] for r in keep]
        state = kvcache.run_block(model, [[t] for t in tokens], pad_id, state)
    return out


class _StopAtNewline:
    """A stopping criterion for one streamed reply: replies are one line, so a new line ends it."""

    def __init__(self, tokenizer: Any, prompt_length: int) -> None:
        self.tokenizer, self.prompt_length = tokenizer, prompt_length

    def __call__(self, input_ids: torch.Tensor, scores: Any, **kwargs: Any) -> torch.Tensor:
        new = input_ids[:, self.prompt_length :]
        done = [bool(row.numel()) and "\n" in self.tokenizer.decode(row[-1:]) for row in new]
        return torch.tensor(done, device=input_ids.device)


@torch.inference_mode()
def generate_after(
    model: Any,
    tokenizer: Any,
    prefix: kvcache.Prefix,
    suffixes: list[list[int]],
    cfg: GenerationConfig,
    streamer: Any = None,
) -> list[str]:
    """Replies to prompts made of `prefix` (its rows, already in the KV cache) and `suffixes` (token ids, left-padded
    after it): only the suffixes and the new tokens are computed. Consumes the prefix's cache. With a `streamer`
    (transformers' TextIteratorStreamer, one row) the text is handed over as it is decoded and stops at a new line."""
    eos, kwargs = _decoding(model, tokenizer, cfg)
    pad_id = kwargs["pad_token_id"]
    if cfg.greedy_early_exit and streamer is None:
        state = kvcache.run_block(model, suffixes, pad_id, prefix)
        if state is not None:
            return [
                _clean(ids, tokenizer, eos)
                for ids in greedy_after(model, tokenizer, state, cfg.max_new_tokens, eos, pad_id)
            ]
    ids, mask = kvcache.pad(suffixes, pad_id, left=True)
    input_ids = torch.cat([prefix.ids, ids], dim=1).to(model.device)
    if streamer is not None:
        from transformers import StoppingCriteriaList

        kwargs.update(
            streamer=streamer, stopping_criteria=StoppingCriteriaList([_StopAtNewline(tokenizer, input_ids.shape[1])])
        )
    out = model.generate(
        input_ids=input_ids,
        attention_mask=torch.cat([prefix.mask, mask], dim=1).to(model.device),
        **{kvcache.CACHE_ARG: prefix.cache},
        **kwargs,
    )
    return [_clean(row, tokenizer, eos) for row in out[:, input_ids.shape[1] :].tolist()]


def generate_texts(model: Any, tokenizer: Any, prompts_: list[str], cfg: GenerationConfig) -> list[str]:
    """One reply per rendered prompt, in input order."""
    return generate_timed(model, tokenizer, prompts_, cfg)[0]

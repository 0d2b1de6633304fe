"""Prefix caching for causal LMs: run a block of tokens on top of an earlier block's KV cache, branch a cache into
one row per candidate, and score candidate continuations without holding full-vocabulary fp32 logits.

A `Prefix` is what a run of blocks leaves behind: the KV cache, the token ids and attention mask of every column so
far (each block is left-padded, so padding holes sit between blocks and carry mask 0), and the logits of each row's
last real token. Positions count real tokens only, so a row's math is the same as for its unpadded sequence.
Select-then-Generate uses this to compute the persona + history prefix once and branch into candidate scoring
(the select task) and generation (the generate task); the LM selector uses it to score all candidates of a prompt
on one prompt pass.
"""

from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass
from typing import Any

import torch

# The KV-cache keyword of forward() and generate(), and the output field holding the cache, in transformers 5.x (the
# older `past_key_values` name is deprecated there and removed in 5.40). pyproject pins transformers below 6; a
# model whose forward does not take this keyword gets the reference path, with a warning.
CACHE_ARG = "cache"

# Candidate rows whose logits are materialised at a time (rows x tokens x vocab): bounds memory at any batch size.
LOGIT_CHUNK_ROWS = 8


@dataclass
class Prefix:
    """The state after one or more blocks: cache, ids and mask of all columns, last real token's logits per row."""

    cache: Any
    ids: torch.Tensor  # (rows, columns) long, padding included
    mask: torch.Tensor  # (rows, columns) long, 1 = real token
    last_logits: torch.Tensor  # (rows, vocab)


def pad(seqs: list[list[int]], pad_id: int, *, left: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids and attention mask of `seqs` padded to the longest, on the left or on the right."""
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for row, s in enumerate(seqs):
        cols = slice(width - len(s), width) if left else slice(0, len(s))
        ids[row, cols] = torch.tensor(s, dtype=torch.long)
        mask[row, cols] = 1
    return ids, mask


def _positions(full_mask: torch.Tensor, width: int) -> torch.Tensor:
    """Position ids of the last `width` columns: the number of real tokens before each one."""
    return (full_mask.cumsum(-1) - 1).clamp(min=0)[:, -width:]


def supports_branching(cache: Any) -> bool:
    """A cache whose layers expose keys/values tensors (transformers' DynamicCache): rows can be copied out."""
    layers = getattr(cache, "layers", None)
    return bool(layers) and all(hasattr(layer, "keys") and hasattr(layer, "values") for layer in layers)


def _takes_cache(module: Any) -> bool:
    return CACHE_ARG in inspect.signature(module.forward).parameters


def cache_api_problem(model: Any) -> str | None:
    """Why the shared-prefill path cannot run `model`, or None when it can: its forward must take `cache=` by name
    (a renamed keyword would otherwise vanish into **kwargs and every block would start from an empty cache)."""
    if not _takes_cache(model):
        return f"{type(model).__name__}.forward takes no {CACHE_ARG!r} argument"
    head = _output_head(model)
    if head is not None and not _takes_cache(head[0]):
        return f"{type(head[0]).__name__}.forward (the decoder) takes no {CACHE_ARG!r} argument"
    return None


def fall_back(reason: str) -> None:
    """Say loudly that the shared-prefill path is off and why; the caller then takes the reference path."""
    warnings.warn(f"KV-cache fast path off, using the reference path: {reason}", RuntimeWarning, stacklevel=3)


@torch.inference_mode()
def run_block(model: Any, seqs: list[list[int]], pad_id: int, prefix: Prefix | None = None) -> Prefix | None:
    """Run `seqs` (one non-empty list per row, left-padded) after `prefix`; None, with a warning naming the reason,
    when the model does not take `cache=` or returns no cache that can be branched. The prefix's cache is extended
    in place: `branch` it first to keep it."""
    problem = cache_api_problem(model)
    if problem is not None:
        fall_back(problem)
        return None
    device = model.device
    ids, mask = pad(seqs, pad_id, left=True)
    full_mask = mask if prefix is None else torch.cat([prefix.mask, mask], dim=1)
    out = model(
        input_ids=ids.to(device),
        attention_mask=full_mask.to(device),
        position_ids=_positions(full_mask, ids.shape[1]).to(device),
        use_cache=True,
        logits_to_keep=1,
        **{CACHE_ARG: prefix.cache if prefix is not None else None},
    )
    cache = getattr(out, CACHE_ARG, None)
    if cache is None or not supports_branching(cache):
        fall_back(f"{type(model).__name__} returned {type(cache).__name__}, not a cache with per-layer keys/values")
        return None
    all_ids = ids if prefix is None else torch.cat([prefix.ids, ids], dim=1)
    return Prefix(cache=cache, ids=all_ids, mask=full_mask, last_logits=out.logits[:, -1])


def branch(prefix: Prefix, rows: torch.Tensor) -> Prefix:
    """A new Prefix holding copies of the given rows (a row may repeat: one copy per candidate)."""
    from transformers import DynamicCache

    cache = DynamicCache()
    for layer_idx, layer in enumerate(prefix.cache.layers):
        index = rows.to(layer.keys.device)
        cache.update(layer.keys.index_select(0, index), layer.values.index_select(0, index), layer_idx)
    return Prefix(
        cache=cache,
        ids=prefix.ids[rows],
        mask=prefix.mask[rows],
        last_logits=prefix.last_logits[rows.to(prefix.last_logits.device)],
    )


def _picked_logprobs(lm_head: Any, hidden: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """log p(target) at each position from hidden states, LOGIT_CHUNK_ROWS rows of logits at a time."""
    out = torch.empty(targets.shape, dtype=torch.float32, device=hidden.device)
    for start in range(0, hidden.shape[0], LOGIT_CHUNK_ROWS):
        rows = slice(start, start + LOGIT_CHUNK_ROWS)
        logits = lm_head(hidden[rows]).float()
        out[rows] = logits.gather(-1, targets[rows].unsqueeze(-1)).squeeze(-1) - logits.logsumexp(-1)
    return out


def _output_head(model: Any) -> tuple[Any, Any] | None:
    """(decoder, lm_head) when logits are a plain projection of the decoder's hidden states, else None."""
    config = getattr(model, "config", None)
    if getattr(config, "final_logit_softcapping", None) or getattr(config, "logit_scale", None):
        return None
    get_decoder = getattr(model, "get_decoder", None)
    get_head = getattr(model, "get_output_embeddings", None)
    if get_decoder is None or get_head is None:
        return None
    decoder, head = get_decoder(), get_head()
    return (decoder, head) if decoder is not None and head is not None else None


@torch.inference_mode()
def candidate_logprobs(
    model: Any, prefix: Prefix, owners: torch.Tensor, cands: list[list[int]], pad_id: int, reduction: str = "mean"
) -> list[float]:
    """Each candidate's total (or mean) token log-likelihood as a continuation of its owner row of `prefix`.

    The prefix's last logits predict each candidate's first token; the candidates (minus their last token) run once
    on a branched copy of the prefix cache to predict the rest. Log-probs are reduced per candidate from chunks of
    logits, so no (candidates x tokens x vocab) fp32 tensor is ever held.
    """
    device = model.device
    rows = branch(prefix, owners)
    c_ids, c_mask = pad(cands, pad_id, left=False)
    c_ids, c_mask = c_ids.to(device), c_mask.to(device)
    first = rows.last_logits.float()
    picked = [(first.gather(-1, c_ids[:, :1]) - first.logsumexp(-1, keepdim=True))]
    if c_ids.shape[1] > 1:
        rest_ids = c_ids[:, :-1]
        full_mask = torch.cat([rows.mask.to(device), c_mask[:, :-1]], dim=1)
        kwargs = {
            "input_ids": rest_ids,
            "attention_mask": full_mask,
            "position_ids": _positions(full_mask, rest_ids.shape[1]),
            CACHE_ARG: rows.cache,
        }
        head = _output_head(model)
        if head is not None:
            decoder, lm_head = head
            hidden = decoder(**kwargs).last_hidden_state
            picked.append(_picked_logprobs(lm_head, hidden, c_ids[:, 1:]))
        else:  # a model with its own logit transform: take its logits
            logits = model(**kwargs).logits.float()
            picked.append(logits.gather(-1, c_ids[:, 1:].unsqueeze(-1)).squeeze(-1) - logits.logsumexp(-1))
    token_lp = torch.cat(picked, dim=1) * c_mask
    totals = token_lp.sum(-1)
    if reduction == "mean":
        totals = totals / c_mask.sum(-1)
    return totals.cpu().tolist()


def common_prefix_length(a: list[int], b: list[int]) -> int:
    """How many leading tokens two id lists share."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n

"""The LM selector, PAL's select task: the LM itself scores every candidate line after the select prompt (or
generates one and `prompts.parse_selection` reads it). The other selectors and the registry are in `selectors.py`."""

from __future__ import annotations

from typing import Any

import torch

from pal_core.data.loaders import Example
from pal_core.errors import DataFormatError
from pal_core.inference import kvcache, prompts
from pal_core.inference.generate import GenerationConfig, generate_texts
from pal_core.inference.selection import Selection, make_selection, one_hot


def _chunks(items: list[Example], size: int) -> list[list[Example]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _regroup(flat: list[float], cand_ids: list[list[list[int]]]) -> list[list[float]]:
    """One list of scores per example from the flat list over all candidates."""
    out, pos = [], 0
    for cands in cand_ids:
        out.append(flat[pos : pos + len(cands)])
        pos += len(cands)
    return out


class LMSelector:
    """PAL's select task: the LM scores every candidate line (`k. sentence` and the none text) after the select prompt.

    mode="score": softmax over the candidates' scores, each the mean (reduction "mean") or total ("sum") token
    log-likelihood of the whole line, or ("first") the log-probability of its first token only: the number or "No",
    read off the prompt's last logits, so no candidate runs through the model at all. `none_bias` is added to the
    none candidate's score before the argmax (fit it on a development set: analysis.selection_study.fit_none_bias).
    mode="generate": greedy decoding parsed by `parse_selection`.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        batch_size: int,
        mode: str,
        reduction: str,
        prefix_cache: bool,
        none_bias: float = 0.0,
    ) -> None:
        self.model, self.tokenizer = model, tokenizer
        self.batch_size, self.mode, self.reduction, self.prefix_cache = batch_size, mode, reduction, prefix_cache
        self.none_bias = none_bias

    def select(self, batch: list[Example]) -> list[Selection]:
        out: list[Selection] = []
        for chunk in _chunks(batch, self.batch_size):
            if self.mode == "score":
                out.extend(self._selections(chunk, self._raw_scores(chunk)))
            else:
                out.extend(self._generate(chunk))
        return out

    def raw_scores(self, batch: list[Example]) -> list[list[float]]:
        """Each example's candidate scores (one per persona sentence, then none) before the none bias and softmax."""
        out: list[list[float]] = []
        for chunk in _chunks(batch, self.batch_size):
            out.extend(self._raw_scores(chunk))
        return out

    def _prompt(self, ex: Example) -> str:
        return prompts.render_prompt(self.tokenizer, prompts.select_messages(ex.persona, ex.history))

    def _generate(self, chunk: list[Example]) -> list[Selection]:
        gen_cfg = GenerationConfig(max_new_tokens=32, batch_size=len(chunk))
        texts = generate_texts(self.model, self.tokenizer, [self._prompt(ex) for ex in chunk], gen_cfg)
        out = []
        for ex, text in zip(chunk, texts, strict=True):
            index = prompts.parse_selection(text, ex.persona)
            out.append(make_selection(index, one_hot(index, len(ex.persona)), ex.persona))
        return out

    def pad_id(self) -> int:
        return self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0

    def prompt_ids(self, ex: Example) -> list[int]:
        """The select prompt's token ids."""
        return self.tokenizer(self._prompt(ex), add_special_tokens=False)["input_ids"]

    def candidate_ids(self, ex: Example) -> list[list[int]]:
        """Token ids of every candidate line ("k. sentence" per persona sentence, then the none text)."""
        tok = self.tokenizer
        return [
            tok(c, add_special_tokens=False)["input_ids"] or [tok.unk_token_id]
            for c in prompts.select_candidates(ex.persona)
        ]

    def first_token_ids(self, ex: Example, cand_ids: list[list[int]]) -> list[int]:
        """The first token of each candidate; an error when two candidates share it (first-token scoring could not
        tell them apart: a persona of 10+ sentences with digit tokens, "1" and "10")."""
        firsts = [c[0] for c in cand_ids]
        if len(set(firsts)) != len(firsts):
            raise DataFormatError(
                f"lm selector, reduction 'first': example {ex.id}: expected candidates with distinct first tokens, "
                f"got {len(firsts)} candidates with {len(set(firsts))} (use lm_reduction mean or sum)"
            )
        return firsts

    def _first_token_scores(
        self, chunk: list[Example], cand_ids: list[list[list[int]]], last_logits: torch.Tensor
    ) -> list[list[float]]:
        """log p(first token of each candidate | prompt) from each prompt's last logits."""
        logprobs = torch.log_softmax(last_logits.float(), dim=-1)
        out = []
        for row, (ex, cands) in enumerate(zip(chunk, cand_ids, strict=True)):
            firsts = torch.tensor(self.first_token_ids(ex, cands), device=logprobs.device)
            out.append(logprobs[row, firsts].cpu().tolist())
        return out

    def _prompt_last_logits(self, prompt_ids: list[list[int]]) -> torch.Tensor:
        """The logits after each prompt's last token: one left-padded forward pass, no cache kept."""
        device = self.model.device
        input_ids, attention = kvcache.pad(prompt_ids, self.pad_id(), left=True)
        position_ids = (attention.cumsum(-1) - 1).clamp(min=0)
        return self.model(
            input_ids=input_ids.to(device),
            attention_mask=attention.to(device),
            position_ids=position_ids.to(device),
            logits_to_keep=1,
        ).logits[:, -1]

    @torch.inference_mode()
    def _raw_scores(self, chunk: list[Example]) -> list[list[float]]:
        prompt_ids = [self.prompt_ids(ex) for ex in chunk]
        cand_ids = [self.candidate_ids(ex) for ex in chunk]
        if self.reduction == "first":
            return self._first_token_scores(chunk, cand_ids, self._prompt_last_logits(prompt_ids))
        logprobs = None
        if self.prefix_cache:
            prefix = kvcache.run_block(self.model, prompt_ids, self.pad_id())
            if prefix is not None:
                logprobs = self._logprobs_after(prefix, cand_ids)
        if logprobs is None:  # the plain path: every candidate with its whole prompt
            seqs = [p + c for p, cands in zip(prompt_ids, cand_ids, strict=True) for c in cands]
            logprobs = self._candidate_logprobs(seqs, [len(c) for cands in cand_ids for c in cands])
        return _regroup(logprobs, cand_ids)

    def select_after(
        self, prefix: kvcache.Prefix, rows: list[int], chunk: list[Example], suffixes: list[list[int]]
    ) -> list[Selection]:
        """Selections for `chunk`, whose select prompts are the given `rows` of `prefix` followed by `suffixes`.

        Select-then-Generate computes the persona + history prefix once for both of its prompts; the rows are
        branched (copied) here, so the prefix is left as it was for the generate step. First-token scoring reads the
        select prompt's last logits and runs no candidate.
        """
        branched = kvcache.branch(prefix, torch.tensor(rows))
        state = kvcache.run_block(self.model, suffixes, self.pad_id(), branched)
        cand_ids = [self.candidate_ids(ex) for ex in chunk]
        if self.reduction == "first":
            return self._selections(chunk, self._first_token_scores(chunk, cand_ids, state.last_logits))
        return self._selections(chunk, _regroup(self._logprobs_after(state, cand_ids), cand_ids))

    def _logprobs_after(self, prefix: kvcache.Prefix, cand_ids: list[list[list[int]]]) -> list[float]:
        """Every candidate's log-likelihood after its example's row of `prefix` (3.6x the plain path on CPU, with
        the prompt run once instead of once per candidate; docs/performance.md)."""
        owners = torch.tensor([i for i, cands in enumerate(cand_ids) for _ in cands])
        flat = [c for cands in cand_ids for c in cands]
        return kvcache.candidate_logprobs(self.model, prefix, owners, flat, self.pad_id(), reduction=self.reduction)

    def _selections(self, chunk: list[Example], scores: list[list[float]]) -> list[Selection]:
        """The argmax candidate of each example's scores, the none score raised by `none_bias`; scores as softmax."""
        out = []
        for ex, own_scores in zip(chunk, scores, strict=True):
            own = torch.tensor(own_scores)
            own[-1] += self.none_bias
            best = int(torch.argmax(own))
            out.append(
                make_selection(-1 if best == len(ex.persona) else best, torch.softmax(own, 0).tolist(), ex.persona)
            )
        return out

    def _reduce(self, picked: torch.Tensor, lens: torch.Tensor) -> list[float]:
        """Sum of each row's candidate-token log-probs (`picked` is 0 off the candidate), or its mean."""
        totals = picked.sum(-1)
        return (totals / lens if self.reduction == "mean" else totals).cpu().tolist()

    def _candidate_logprobs(self, seqs: list[list[int]], cand_lens: list[int]) -> list[float]:
        """Log-likelihood of each sequence's last `cand_len` tokens; left padding so every candidate ends at the edge."""
        device = self.model.device
        input_ids, attention = kvcache.pad(seqs, self.pad_id(), left=True)
        width = input_ids.shape[1]
        # Positions count real tokens only, so left padding does not shift the prompt.
        position_ids = (attention.cumsum(-1) - 1).clamp(min=0)
        keep = max(cand_lens) + 1  # only the logits that predict candidate tokens: saves a B x L x vocab tensor
        logits = self.model(
            input_ids=input_ids.to(device),
            attention_mask=attention.to(device),
            position_ids=position_ids.to(device),
            logits_to_keep=keep,
        ).logits.float()
        token_lp = torch.log_softmax(logits[:, :-1], dim=-1)
        targets = input_ids[:, width - keep + 1 :].to(device)
        picked = token_lp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
        lens = torch.tensor(cand_lens, device=device)
        cols = torch.arange(keep - 1, device=device).unsqueeze(0)
        return self._reduce(picked * (cols >= (keep - 1 - lens).unsqueeze(1)), lens)

"""Persona selectors (the "Select" of Select-then-Generate) behind one interface: `select(batch) -> list[Selection]`.

Each selection holds the chosen 0-based persona index (-1 = none) and one score per persona sentence plus one for
"none", so the inspector can show a distribution. Selectors get their models from the caller; none loads anything.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch

from pal_core import kvcache, prompts
from pal_core.consistency import CLASS_NAMES
from pal_core.data import Example
from pal_core.errors import ConfigError, DataFormatError, UnknownNameError
from pal_core.generate import GenerationConfig, generate_texts

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Selection:
    """One selector decision: `index` is 0-based or -1 (none); `scores` has len(persona) + 1 entries, none last."""

    index: int
    scores: list[float]
    sentence: str | None


class Selector(Protocol):
    """Anything that picks a persona sentence (or none) for each example of a batch."""

    def select(self, batch: list[Example]) -> list[Selection]: ...


@dataclass
class SelectConfig:
    """How persona sentences are chosen for the generate prompt."""

    strategy: str = field(default="lm", metadata={"help": "Selector name: embedding, lm, nli, none, oracle."})
    threshold: float | None = field(
        default=None,
        metadata={"help": "Below this best score the selector picks none (embedding: cosine 0.35, nli: 0.5)."},
    )
    batch_size: int = field(default=8, metadata={"help": "Examples per forward pass (lm: all their candidates)."})
    lm_mode: str = field(default="score", metadata={"help": "lm selector: 'score' candidates or 'generate' + parse."})
    lm_reduction: str = field(default="mean", metadata={"help": "lm score mode: 'mean' or 'sum' token log-prob."})
    lm_prefix_cache: bool = field(
        default=True,
        metadata={"help": "lm score mode: run each prompt once and score its candidates on its KV cache."},
    )
    use_full_history: bool = field(
        default=False, metadata={"help": "embedding/nli: compare with the whole history, not the last utterance."}
    )

    def __post_init__(self) -> None:
        if self.strategy not in SELECTORS:
            raise UnknownNameError(
                f"SelectConfig.strategy: unknown selector {self.strategy!r}; available: {', '.join(sorted(SELECTORS))}"
            )
        if self.batch_size < 1:
            raise ConfigError(f"SelectConfig.batch_size: expected >= 1, got {self.batch_size}")
        if self.lm_mode not in ("score", "generate"):
            raise ConfigError(f"SelectConfig.lm_mode: expected 'score' or 'generate', got {self.lm_mode!r}")
        if self.lm_reduction not in ("mean", "sum"):
            raise ConfigError(f"SelectConfig.lm_reduction: expected 'mean' or 'sum', got {self.lm_reduction!r}")


def _make_selection(index: int, scores: list[float], persona: tuple[str, ...]) -> Selection:
    return Selection(index=index, scores=scores, sentence=persona[index] if index >= 0 else None)


def _one_hot(index: int, n_persona: int) -> list[float]:
    scores = [0.0] * (n_persona + 1)
    scores[index if index >= 0 else n_persona] = 1.0
    return scores


def _chunks(items: list[Example], size: int) -> list[list[Example]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


class LMSelector:
    """PAL's select task: the LM scores every candidate line (`k. sentence` and the none text) after the select prompt.

    mode="score": softmax over the candidates' mean (or total) token log-likelihood, one padded forward pass per
    batch of examples with all their candidates. mode="generate": greedy decoding parsed by `parse_selection`.
    """

    def __init__(self, model: Any, tokenizer: Any, config: SelectConfig) -> None:
        self.model, self.tokenizer, self.config = model, tokenizer, config

    def select(self, batch: list[Example]) -> list[Selection]:
        out: list[Selection] = []
        for chunk in _chunks(batch, self.config.batch_size):
            out.extend(self._score(chunk) if self.config.lm_mode == "score" else self._generate(chunk))
        return out

    def _prompt(self, ex: Example) -> str:
        return prompts.render_prompt(self.tokenizer, prompts.select_messages(ex.persona, ex.history))

    def _generate(self, chunk: list[Example]) -> list[Selection]:
        gen_cfg = GenerationConfig(max_new_tokens=32, batch_size=len(chunk))
        texts = generate_texts(self.model, self.tokenizer, [self._prompt(ex) for ex in chunk], gen_cfg)
        out = []
        for ex, text in zip(chunk, texts, strict=True):
            index = prompts.parse_selection(text, ex.persona)
            out.append(_make_selection(index, _one_hot(index, len(ex.persona)), ex.persona))
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

    @torch.inference_mode()
    def _score(self, chunk: list[Example]) -> list[Selection]:
        prompt_ids = [self.prompt_ids(ex) for ex in chunk]
        cand_ids = [self.candidate_ids(ex) for ex in chunk]
        logprobs = None
        if self.config.lm_prefix_cache:
            prefix = kvcache.run_block(self.model, prompt_ids, self.pad_id())
            if prefix is not None:
                logprobs = self._logprobs_after(prefix, cand_ids)
        if logprobs is None:  # the plain path: every candidate with its whole prompt
            seqs = [p + c for p, cands in zip(prompt_ids, cand_ids, strict=True) for c in cands]
            logprobs = self._candidate_logprobs(seqs, [len(c) for cands in cand_ids for c in cands])
        return self._selections(chunk, cand_ids, logprobs)

    def select_after(
        self, prefix: kvcache.Prefix, rows: list[int], chunk: list[Example], suffixes: list[list[int]]
    ) -> list[Selection]:
        """Selections for `chunk`, whose select prompts are the given `rows` of `prefix` followed by `suffixes`.

        Select-then-Generate computes the persona + history prefix once for both of its prompts; the rows are
        branched (copied) here, so the prefix is left as it was for the generate step.
        """
        branched = kvcache.branch(prefix, torch.tensor(rows))
        state = kvcache.run_block(self.model, suffixes, self.pad_id(), branched)
        cand_ids = [self.candidate_ids(ex) for ex in chunk]
        return self._selections(chunk, cand_ids, self._logprobs_after(state, cand_ids))

    def _logprobs_after(self, prefix: kvcache.Prefix, cand_ids: list[list[list[int]]]) -> list[float]:
        """Every candidate's log-likelihood after its example's row of `prefix` (3.6x the plain path on CPU, with
        the prompt run once instead of once per candidate; docs/performance.md)."""
        owners = torch.tensor([i for i, cands in enumerate(cand_ids) for _ in cands])
        flat = [c for cands in cand_ids for c in cands]
        return kvcache.candidate_logprobs(
            self.model, prefix, owners, flat, self.pad_id(), reduction=self.config.lm_reduction
        )

    def _selections(
        self, chunk: list[Example], cand_ids: list[list[list[int]]], logprobs: list[float]
    ) -> list[Selection]:
        out, pos = [], 0
        for ex, cands in zip(chunk, cand_ids, strict=True):
            own = torch.tensor(logprobs[pos : pos + len(cands)])
            pos += len(cands)
            best = int(torch.argmax(own))
            out.append(
                _make_selection(-1 if best == len(ex.persona) else best, torch.softmax(own, 0).tolist(), ex.persona)
            )
        return out

    def _reduce(self, picked: torch.Tensor, lens: torch.Tensor) -> list[float]:
        """Sum of each row's candidate-token log-probs (`picked` is 0 off the candidate), or its mean."""
        totals = picked.sum(-1)
        return (totals / lens if self.config.lm_reduction == "mean" else totals).cpu().tolist()

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


def _query_text(ex: Example, use_full_history: bool) -> str:
    if not ex.history:
        return ""
    return " ".join(ex.history) if use_full_history else ex.history[-1]


class EmbeddingSelector:
    """Cosine similarity (sentence embeddings, MiniLM by default) between the history and each persona sentence."""

    default_threshold = 0.35

    def __init__(self, embedder: Any, config: SelectConfig) -> None:
        self.embedder, self.config = embedder, config
        self.threshold = config.threshold if config.threshold is not None else self.default_threshold

    def select(self, batch: list[Example]) -> list[Selection]:
        queries = [_query_text(ex, self.config.use_full_history) for ex in batch]
        sentences = [s for ex in batch for s in ex.persona]
        q = self.embedder.encode(queries, batch_size=64, convert_to_tensor=True, normalize_embeddings=True)
        p = self.embedder.encode(sentences, batch_size=64, convert_to_tensor=True, normalize_embeddings=True)
        out, start = [], 0
        for i, ex in enumerate(batch):
            cos = (p[start : start + len(ex.persona)] @ q[i]).float().cpu().tolist()
            start += len(ex.persona)
            best = max(range(len(cos)), key=cos.__getitem__) if cos else -1
            index = best if cos and cos[best] >= self.threshold else -1
            out.append(_make_selection(index, cos + [self.threshold], ex.persona))
        return out


_ENTAIL = CLASS_NAMES.index("entail")  # predict_proba columns follow CLASS_NAMES


class NLISelector:
    """Entailment probability of (persona sentence, history) from the consistency model; none below a threshold."""

    default_threshold = 0.5

    def __init__(self, consistency: Any, config: SelectConfig) -> None:
        self.consistency, self.config = consistency, config
        self.threshold = config.threshold if config.threshold is not None else self.default_threshold

    def select(self, batch: list[Example]) -> list[Selection]:
        pairs = [(s, _query_text(ex, self.config.use_full_history)) for ex in batch for s in ex.persona]
        probs = self.consistency.predict_proba(pairs) if pairs else []
        out, start = [], 0
        for ex in batch:
            entail = [float(probs[start + j][_ENTAIL]) for j in range(len(ex.persona))]
            start += len(ex.persona)
            best = max(range(len(entail)), key=entail.__getitem__) if entail else -1
            index = best if entail and entail[best] >= self.threshold else -1
            out.append(_make_selection(index, entail + [self.threshold], ex.persona))
        return out


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
            out.append(_make_selection(index, _one_hot(index, len(ex.persona)), ex.persona))
        return out


class NoneSelector:
    """Always picks no persona sentence."""

    def select(self, batch: list[Example]) -> list[Selection]:
        return [_make_selection(-1, _one_hot(-1, len(ex.persona)), ex.persona) for ex in batch]


def _build_lm(config: SelectConfig, model: Any, tokenizer: Any, embedder: Any, consistency: Any) -> Selector:
    if model is None or tokenizer is None:
        raise ConfigError("get_selector('lm'): expected model and tokenizer, got None")
    return LMSelector(model, tokenizer, config)


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
    config = config if config is not None else SelectConfig(strategy=name)
    return SELECTORS[name](config, model, tokenizer, embedder, consistency)

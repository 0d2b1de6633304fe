"""The settings of evaluation, selection and generation as plain dataclasses: `GenerationConfig` (decoding),
`SelectConfig` (persona selection) and `EvalConfig` (one `pal evaluate` run, extending both). This module imports
neither torch nor transformers, so `pal evaluate --help` and flag parsing need neither; the code that uses the
settings is in generate.py, selectors.py and experiments.py.
"""

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TypeVar

from pal_core.errors import ConfigError, UnknownNameError

# The registries' names, kept here without their (torch-importing) builders; tests/pal_core/test_cli_config.py
# checks they equal selectors.SELECTORS and systems.SYSTEMS.
SELECTOR_NAMES = ("embedding", "lm", "nli", "none", "oracle")
SYSTEM_NAMES = ("full_persona", "gold_persona", "persona_free", "select_then_generate")


@dataclass
class GenerationConfig:
    """Decoding settings shared by every system."""

    max_new_tokens: int = field(default=32, metadata={"help": "New tokens per reply."})
    batch_size: int = field(default=32, metadata={"help": "Prompts per generate() call."})
    do_sample: bool = field(default=False, metadata={"help": "Sample instead of greedy decoding."})
    temperature: float = field(default=0.7, metadata={"help": "Sampling temperature (do_sample only)."})
    top_p: float = field(default=0.9, metadata={"help": "Nucleus sampling mass (do_sample only)."})
    seed: int = field(default=0, metadata={"help": "Torch seed set before generating."})
    early_exit: bool = field(
        default=True,
        metadata={
            "help": "Greedy: a reply leaves the batch at its end-of-turn token or the end of its first line (the only "
            "line kept); False runs transformers' generate to the longest reply (the reference path)."
        },
    )

    @property
    def greedy_early_exit(self) -> bool:
        """Whether replies come from `greedy_after` (greedy with early exit) rather than transformers' generate."""
        return self.early_exit and not self.do_sample

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ConfigError(f"GenerationConfig.max_new_tokens: expected >= 1, got {self.max_new_tokens}")
        if self.batch_size < 1:
            raise ConfigError(f"GenerationConfig.batch_size: expected >= 1, got {self.batch_size}")
        if self.temperature <= 0:
            raise ConfigError(f"GenerationConfig.temperature: expected > 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ConfigError(f"GenerationConfig.top_p: expected in (0, 1], got {self.top_p}")


LM_REDUCTIONS = ("mean", "sum", "first")  # lm score mode: how a candidate line is scored


@dataclass
class SelectConfig:
    """How persona sentences are chosen for the generate prompt."""

    selector: str = field(default="lm", metadata={"help": "Selector name: embedding, lm, nli, none, oracle."})
    threshold: float | None = field(
        default=None,
        metadata={"help": "Below this best score the selector picks none (embedding: cosine 0.35, nli: 0.5)."},
    )
    select_batch_size: int = field(
        default=8, metadata={"help": "Examples per selector forward pass (lm: all their candidates)."}
    )
    lm_mode: str = field(default="score", metadata={"help": "lm selector: 'score' candidates or 'generate' + parse."})
    lm_reduction: str = field(
        default="mean",
        metadata={
            "help": "lm score mode: 'mean' or 'sum' token log-prob of each candidate line, or 'first': log-prob of "
            "its first token (the number or 'No'), from the prompt pass alone."
        },
    )
    lm_none_bias: float = field(
        default=0.0,
        metadata={"help": "lm score mode: added to the none candidate's score (fit on a development set)."},
    )
    lm_prefix_cache: bool = field(
        default=True,
        metadata={"help": "lm score mode: run each prompt once and score its candidates on its KV cache."},
    )
    use_full_history: bool = field(
        default=False, metadata={"help": "embedding/nli: compare with the whole history, not the last utterance."}
    )

    def __post_init__(self) -> None:
        if self.selector not in SELECTOR_NAMES:
            raise UnknownNameError(
                f"SelectConfig.selector: unknown selector {self.selector!r}; available: {', '.join(SELECTOR_NAMES)}"
            )
        if self.select_batch_size < 1:
            raise ConfigError(f"SelectConfig.select_batch_size: expected >= 1, got {self.select_batch_size}")
        if self.lm_mode not in ("score", "generate"):
            raise ConfigError(f"SelectConfig.lm_mode: expected 'score' or 'generate', got {self.lm_mode!r}")
        if self.lm_reduction not in LM_REDUCTIONS:
            raise ConfigError(
                f"SelectConfig.lm_reduction: expected one of {', '.join(LM_REDUCTIONS)}, got {self.lm_reduction!r}"
            )


_Part = TypeVar("_Part", GenerationConfig, SelectConfig)


@dataclass
class EvalConfig(SelectConfig, GenerationConfig):
    """One evaluation run: which system, model and data, where to write; decoding (GenerationConfig's fields) and
    persona selection (SelectConfig's fields, select_then_generate only) come from the two configs it extends."""

    # What to run
    system: str = field(default="select_then_generate", metadata={"help": f"System: {', '.join(SYSTEM_NAMES)}."})
    model: str | None = field(default=None, metadata={"help": "LM name or local path; default SmolLM2-135M-Instruct."})
    data: str = field(default="", metadata={"help": "Examples file (PAL JSON, JSONL, ParlAI); '' = the demo file."})
    output_dir: str = field(default="", metadata={"help": "The run directory to write; '' = runs/<system>."})
    limit: int | None = field(default=None, metadata={"help": "Use only the first N examples."})
    history_window: int = field(default=3, metadata={"help": "Utterances of history kept per example."})
    share_prefill: bool = field(
        default=True,
        metadata={
            "help": "select_then_generate with the lm selector: one prefill of the persona + history prefix for "
            "both prompts."
        },
    )
    # Scoring
    consistency_model: str | None = field(
        default=None, metadata={"help": "Consistency model dir; default its standard dir; missing = c_score null."}
    )
    swap_persona: bool = field(
        default=False, metadata={"help": "Counterfactual: give each dialogue another's persona."}
    )
    swap_seed: int = field(default=0, metadata={"help": "Seed of the persona derangement."})
    # Where
    device: str | None = field(default=None, metadata={"help": "cpu, cuda or cuda:N; default cuda if available."})
    dtype: str | None = field(
        default=None,
        metadata={
            "help": "float32, bfloat16 (on a CPU with AMX about 2x faster than float32, within 0.01 C-score: "
            "docs/performance.md), float16, or int8 (CPU: dynamic int8 layers); default by device (CPU: float32)."
        },
    )

    def __post_init__(self) -> None:
        if self.system not in SYSTEM_NAMES:
            raise UnknownNameError(
                f"EvalConfig.system: unknown system {self.system!r}; available: {', '.join(SYSTEM_NAMES)}"
            )
        if self.limit is not None and self.limit < 1:
            raise ConfigError(f"EvalConfig.limit: expected >= 1 or None, got {self.limit}")
        if self.history_window < 1:
            raise ConfigError(f"EvalConfig.history_window: expected >= 1, got {self.history_window}")
        if self.swap_persona and self.system == "gold_persona":
            raise ConfigError(
                "EvalConfig.swap_persona: expected a system without gold labels, got gold_persona "
                "(gold labels refer to the original persona)"
            )
        SelectConfig.__post_init__(self)
        GenerationConfig.__post_init__(self)

    def _part(self, cls: type[_Part]) -> _Part:
        return cls(**{f.name: getattr(self, f.name) for f in fields(cls) if f.init})

    def select_config(self) -> SelectConfig:
        return self._part(SelectConfig)

    def generation_config(self) -> GenerationConfig:
        return self._part(GenerationConfig)

    def run_dir(self) -> Path:
        return Path(self.output_dir) if self.output_dir else Path("runs") / self.system

"""Rejected sampling, between the two training stages: the stage-1 model answers from the history only, and each
persona-free reply becomes the rejected side of a preference pair whose chosen side is the gold response."""

import logging
import time
from dataclasses import dataclass, field

from pal_core.data.loaders import load_examples
from pal_core.errors import ConfigError
from pal_core.inference import distributed, models, prompts
from pal_core.inference.generate import GenerationConfig, generate_texts
from pal_core.training.records import build_rejected_records, write_preferences

logger = logging.getLogger(__name__)


@dataclass
class SampleRejectedConfig:
    """Rejected sampling: the stage-1 model answers from history only; its replies become the rejected side.

    The model is required: the rejected side must be that model's own persona-free reply, never a default LM's.
    """

    model: str | None = field(
        default=None, metadata={"help": "The stage-1 model (a run dir of `pal train sft`); required."}
    )
    data: str | None = field(default=None, metadata={"help": "Training examples (any format load_examples reads)."})
    out: str | None = field(default=None, metadata={"help": "Preference JSONL to write."})
    data_format: str | None = field(default=None, metadata={"help": "parlai, pal, jsonl or rcdg (None: guess)."})
    history_window: int = field(default=3, metadata={"help": "Utterances of history kept (PAL: 1-3)."})
    limit: int | None = field(default=None, metadata={"help": "Use only the first N examples."})
    device: str | None = field(default=None, metadata={"help": "cpu, cuda or cuda:N; default cuda if available."})
    dtype: str | None = field(default=None, metadata={"help": "float32, bfloat16 or float16; default by device."})

    def __post_init__(self) -> None:
        for key in ("model", "data", "out"):
            if not getattr(self, key):
                raise ConfigError(f"SampleRejectedConfig.{key}: expected a path, got {getattr(self, key)!r}")
        if self.limit is not None and self.limit < 1:
            raise ConfigError(f"SampleRejectedConfig.limit: expected >= 1 or None, got {self.limit}")
        if self.history_window < 1:
            raise ConfigError(f"SampleRejectedConfig.history_window: expected >= 1, got {self.history_window}")


def sample_rejected(cfg: SampleRejectedConfig, gen: GenerationConfig) -> dict:
    """Generate persona-free replies with the stage-1 model and write the preference pairs; returns counts.

    Under `accelerate launch` each process generates for a contiguous shard of the examples on its own device and
    the main process alone writes the pairs; every process returns once they are written."""
    start = time.perf_counter()
    device = distributed.process_device(cfg.device)  # "cuda" without a GPU fails before the data is read
    loaded = load_examples(cfg.data, history_window=cfg.history_window, fmt=cfg.data_format)[: cfg.limit]
    examples = [ex for ex in loaded if ex.persona_label is not None]  # unlabelled ones cannot make a pair
    model, tokenizer = models.load_lm(cfg.model, device=device, dtype=cfg.dtype)
    texts = [prompts.render_prompt(tokenizer, prompts.persona_free_messages(ex.history)) for ex in examples]
    generations = distributed.map_sharded(lambda part: generate_texts(model, tokenizer, part, gen), texts)
    records, skipped = build_rejected_records(examples, generations, model=str(cfg.model))
    skipped["unlabelled"] += len(loaded) - len(examples)
    if distributed.is_main_process():
        write_preferences(records, cfg.out)
    distributed.wait_for_everyone()
    summary = {
        "n_examples": len(loaded),
        "n_pairs": len(records),
        "skipped": skipped,
        "wall_time_s": round(time.perf_counter() - start, 3),
        "out": str(cfg.out),
    }
    logger.info(
        "rejected sampling: %d pairs from %d examples (skipped %s) -> %s",
        len(records),
        len(examples),
        skipped,
        cfg.out,
    )
    return summary

"""Rejected sampling, between the two training stages: the stage-1 model answers from the history only, and each
persona-free reply becomes the rejected side of a preference pair whose chosen side is the gold response."""

import logging
import time

from pal_core.data.loaders import load_examples
from pal_core.inference import distributed, models, prompts
from pal_core.inference.generate import GenerationConfig, generate_texts
from pal_core.training.config import SampleRejectedConfig
from pal_core.training.records import build_rejected_records, write_preferences

logger = logging.getLogger(__name__)


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

"""Evaluation runs: an `EvalConfig` (torch-free, inference/config.py) run as a system on a data file, and its run
directory written (formats.write_run: outputs.jsonl, config.json and metrics.json, each once and atomically; then
summary.md); the counterfactual persona swap (same histories, another dialogue's persona) and selector-only runs.

Scoring, rescoring and comparing run directories are in `scoring.py`; the format is formats.runs (docs/interfaces.md)
and `db.store` imports it.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import formats
from formats import OutputRow
from pal_core import data
from pal_core.analysis.scoring import compute_run_metrics, load_consistency, metrics_table, write_jsonl
from pal_core.errors import ConfigError, DataFormatError
from pal_core.inference import distributed, models
from pal_core.inference.config import EvalConfig
from pal_core.inference.selection import Selector
from pal_core.inference.selectors import get_selector
from pal_core.inference.systems import SYSTEMS, run_system

logger = logging.getLogger(__name__)


def load_eval_examples(cfg: EvalConfig) -> list[data.Example]:
    """The configured data file (default: the demo examples), cut to the first `limit` examples."""
    path = cfg.data or data.demo_examples_path()
    examples = data.load_examples(path, history_window=cfg.history_window)
    return examples[: cfg.limit] if cfg.limit else examples


def swap_personas(examples: list[data.Example], seed: int = 0) -> list[data.Example]:
    """Each dialogue gets the persona of another dialogue (a seeded derangement); labels are dropped."""
    keys = list(dict.fromkeys(ex.dialogue_id or "|".join(ex.persona) for ex in examples))
    if len(keys) < 2:
        raise ConfigError(f"swap_personas: expected examples from >= 2 dialogues, got {len(keys)}")
    target = list(keys)
    rng = random.Random(seed)
    for i in range(len(target) - 1, 0, -1):  # Sattolo's shuffle: one cycle, so no dialogue keeps its own persona
        j = rng.randrange(i)
        target[i], target[j] = target[j], target[i]
    persona_of: dict[str, tuple[str, ...]] = {}
    for ex in examples:
        persona_of.setdefault(ex.dialogue_id or "|".join(ex.persona), ex.persona)
    mapping = {k: persona_of[t] for k, t in zip(keys, target, strict=True)}
    return [
        replace(ex, persona=mapping[ex.dialogue_id or "|".join(ex.persona)], persona_label=None) for ex in examples
    ]


def build_selector(cfg: EvalConfig, model: Any, tokenizer: Any) -> Selector | None:
    """The selector select_then_generate needs (None for other systems), with the resources it asks for."""
    if SYSTEMS[cfg.system].selects != "selector":
        return None
    return _make_selector(cfg, model, tokenizer)


def _make_selector(cfg: EvalConfig, model: Any, tokenizer: Any) -> Selector:
    """cfg.selector with what it needs: the embedder or the consistency model is loaded here (on this process's
    device), the LM is given."""
    device = distributed.process_device(cfg.device)
    embedder = models.load_embedder(device=device) if cfg.selector == "embedding" else None
    nli = cfg.selector == "nli"
    consistency = load_consistency(cfg.consistency_model, device=device, required=True) if nli else None
    return get_selector(
        cfg.selector,
        config=cfg.select_config(),
        model=model,
        tokenizer=tokenizer,
        embedder=embedder,
        consistency=consistency,
    )


def _generate(cfg: EvalConfig, command: str | None) -> tuple[Path, list[OutputRow], dict]:
    """(run dir, rows, config.json content) of generating with the configured system; writes nothing.

    Under `accelerate launch` each process generates for a contiguous shard of the examples on its own device and
    every process gets all rows back in input order."""
    began = time.perf_counter()
    examples = load_eval_examples(cfg)
    used = swap_personas(examples, cfg.swap_seed) if cfg.swap_persona else examples
    model, tokenizer = models.load_lm(cfg.model, device=distributed.process_device(cfg.device), dtype=cfg.dtype)
    selector = build_selector(cfg, model, tokenizer)
    gen_cfg = cfg.generation_config()
    rows = distributed.map_sharded(
        lambda part: run_system(
            cfg.system, part, model, tokenizer, gen_cfg, selector=selector, share_prefill=cfg.share_prefill
        ),
        used,
    )
    if cfg.swap_persona:
        for row, ex in zip(rows, examples, strict=True):
            row["original_persona"] = list(ex.persona)
            row["original_gold_label"] = list(ex.persona_label) if ex.persona_label is not None else None
    config = {
        "command": command,
        "system": cfg.system,
        "model": cfg.model or models.DEFAULT_LM,
        "selector": cfg.selector if selector is not None else ("oracle" if cfg.system == "gold_persona" else None),
        "data": str(cfg.data or data.demo_examples_path()),
        "n_examples": len(rows),
        "generation": asdict(gen_cfg),
        "created_at": datetime.now(UTC).isoformat(),
        "wall_time_s": round(time.perf_counter() - began, 3),
        "eval_config": asdict(cfg),
    }
    checked = [OutputRow.from_dict(row, f"row {i}", error=DataFormatError) for i, row in enumerate(rows)]
    return cfg.run_dir(), checked, config


def run_generation(cfg: EvalConfig, command: str | None = None) -> tuple[Path, list[OutputRow], dict]:
    """Generate with the configured system; write config.json and outputs.jsonl (each once, atomically; the main
    process only, under `accelerate launch`). Returns (run dir, rows, config). `command` is the command line that
    asked for the run (the CLI passes its own), kept in config.json."""
    run_dir, rows, config = _generate(cfg, command)
    if distributed.is_main_process():
        formats.write_run(run_dir, config, rows, error=DataFormatError)
        logger.info("wrote %d outputs to %s in %.1f s", len(rows), run_dir, config["wall_time_s"])
    return run_dir, rows, config


def _write_summary(run_dir: Path, cfg: EvalConfig, metrics: dict, rows: list[OutputRow]) -> None:
    lines = [
        f"# Run `{run_dir.name}`",
        "",
        f"- system: `{cfg.system}`",
        f"- model: `{cfg.model or models.DEFAULT_LM}`",
        f"- data: `{cfg.data or data.demo_examples_path()}` ({len(rows)} examples)",
        f"- swap persona: {cfg.swap_persona}",
        "",
        metrics_table([cfg.system], [metrics]),
        "",
        "## First replies",
        "",
    ]
    for row in rows[:3]:
        lines += [
            f"- **{row.id}** partner: {row.history[-1] if row.history else '(none)'}",
            f"  - reply: {row.response}",
            f"  - gold: {row.reference}",
        ]
    with data.open_write(run_dir / "summary.md") as f:
        f.write("\n".join(lines) + "\n")


def run_evaluation(cfg: EvalConfig, command: str | None = None) -> Path:
    """Generate, score and write the whole run directory: outputs.jsonl, config.json and metrics.json each once and
    atomically, then summary.md. Returns its path.

    Under `accelerate launch` generation is split across the processes; the main process alone computes the metrics
    over all rows and writes the files, and every process returns once they are written."""
    began = time.perf_counter()
    run_dir, rows, config = _generate(cfg, command)
    if distributed.is_main_process():
        consistency = load_consistency(cfg.consistency_model, device=distributed.process_device(cfg.device))
        metrics = compute_run_metrics(rows, consistency) if rows else {"n": 0}  # sets rows' contradiction
        metrics["wall_time_s"] = round(time.perf_counter() - began, 3)
        formats.write_run(run_dir, config, rows, metrics, error=DataFormatError)
        _write_summary(run_dir, cfg, metrics, rows)
        logger.info("run %s done in %.1f s", run_dir, metrics["wall_time_s"])
    distributed.wait_for_everyone()
    return run_dir


def run_selection(cfg: EvalConfig) -> Path:
    """Run only the configured selector over the data; write `<run dir>/selections.jsonl` and return its path."""
    examples = load_eval_examples(cfg)
    model, tokenizer = (
        models.load_lm(cfg.model, device=cfg.device, dtype=cfg.dtype) if cfg.selector == "lm" else (None, None)
    )
    selector = _make_selector(cfg, model, tokenizer)
    rows = [
        {
            "id": ex.id,
            "persona": list(ex.persona),
            "history": list(ex.history),
            "gold_label": list(ex.persona_label) if ex.persona_label is not None else None,
            "selected_index": sel.index,
            "selected_sentence": sel.sentence,
            "scores": [round(s, 6) for s in sel.scores],
        }
        for ex, sel in zip(examples, selector.select(examples), strict=True)
    ]
    out = cfg.run_dir() / "selections.jsonl"
    write_jsonl(rows, out)
    logger.info("wrote %d selections (%s) to %s", len(rows), cfg.selector, out)
    return out

"""Evaluation runs: run a system on a data file and write a run directory (config, outputs, metrics, summary).

Also the counterfactual persona swap (same histories, another dialogue's persona) and the comparison table of runs.
The run-directory format is fixed in docs/interfaces.md; `db.store` imports it.
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pal_core import data, distributed, models
from pal_core.errors import ConfigError, DataFormatError, ModelNotFoundError, UnknownNameError
from pal_core.generate import GenerationConfig
from pal_core.metrics import compute_text_metrics, load_metric
from pal_core.select import SELECTORS, SelectConfig, Selector, get_selector
from pal_core.systems import SYSTEMS, run_system

logger = logging.getLogger(__name__)

# What rescoring reads from each outputs.jsonl line.
RESCORE_KEYS = ("id", "persona", "response", "reference", "gold_label", "selected_index")
METRIC_ORDER = (
    "bleu_1",
    "bleu_2",
    "rouge_l",
    "distinct_1",
    "distinct_2",
    "c_score",
    "selection_accuracy",
    "selection_f1",
    "avg_length",
    "c_score_swapped",
    "c_score_original",
    "c_score_swap_delta",
    "n",
    "wall_time_s",
)


@dataclass
class EvalConfig:
    """One evaluation run: which system, model and data, where to write, and how to decode."""

    # What to run
    system: str = field(default="select_then_generate", metadata={"help": f"System: {', '.join(sorted(SYSTEMS))}."})
    model: str | None = field(default=None, metadata={"help": "LM name or local path; default SmolLM2-135M-Instruct."})
    data: str = field(default="", metadata={"help": "Examples file (PAL JSON, JSONL, ParlAI); '' = the demo file."})
    output_dir: str = field(default="", metadata={"help": "The run directory to write; '' = runs/<system>."})
    limit: int | None = field(default=None, metadata={"help": "Use only the first N examples."})
    history_window: int = field(default=3, metadata={"help": "Utterances of history kept per example."})
    # Persona selection (select_then_generate only)
    selector: str = field(default="lm", metadata={"help": f"Selector: {', '.join(sorted(SELECTORS))}."})
    threshold: float | None = field(default=None, metadata={"help": "Selector's none threshold (embedding, nli)."})
    select_batch_size: int = field(default=8, metadata={"help": "Examples per selector forward pass."})
    lm_mode: str = field(default="score", metadata={"help": "lm selector: 'score' or 'generate'."})
    lm_prefix_cache: bool = field(
        default=True, metadata={"help": "lm selector: run each select prompt once, score candidates on its cache."}
    )
    # Scoring
    consistency_model: str | None = field(
        default=None, metadata={"help": "Consistency model dir; default its standard dir; missing = c_score null."}
    )
    swap_persona: bool = field(
        default=False, metadata={"help": "Counterfactual: give each dialogue another's persona."}
    )
    swap_seed: int = field(default=0, metadata={"help": "Seed of the persona derangement."})
    # Decoding
    max_new_tokens: int = field(default=32, metadata={"help": "New tokens per reply."})
    batch_size: int = field(default=32, metadata={"help": "Prompts per generate() call."})
    do_sample: bool = field(default=False, metadata={"help": "Sample instead of greedy decoding."})
    temperature: float = field(default=0.7, metadata={"help": "Sampling temperature."})
    top_p: float = field(default=0.9, metadata={"help": "Nucleus sampling mass."})
    seed: int = field(default=0, metadata={"help": "Torch seed."})
    device: str | None = field(default=None, metadata={"help": "cpu, cuda or cuda:N; default cuda if available."})
    dtype: str | None = field(default=None, metadata={"help": "float32, bfloat16 or float16; default by device."})

    def __post_init__(self) -> None:
        if self.system not in SYSTEMS:
            raise UnknownNameError(
                f"EvalConfig.system: unknown system {self.system!r}; available: {', '.join(sorted(SYSTEMS))}"
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
        self.select_config()
        self.generation_config()

    def select_config(self) -> SelectConfig:
        return SelectConfig(
            strategy=self.selector,
            threshold=self.threshold,
            batch_size=self.select_batch_size,
            lm_mode=self.lm_mode,
            lm_prefix_cache=self.lm_prefix_cache,
        )

    def generation_config(self) -> GenerationConfig:
        return GenerationConfig(
            max_new_tokens=self.max_new_tokens,
            batch_size=self.batch_size,
            do_sample=self.do_sample,
            temperature=self.temperature,
            top_p=self.top_p,
            seed=self.seed,
        )

    def run_dir(self) -> Path:
        return Path(self.output_dir) if self.output_dir else Path("runs") / self.system


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


def load_consistency(path: str | None, *, device: str | None = None, required: bool = False) -> Any:
    """The consistency model at `path` (default dir if None) on `device`; None with a warning when missing and not
    required. A bad or unavailable device is an error either way."""
    from pal_core.consistency import ConsistencyModel

    try:
        return ConsistencyModel.load(path, device=device)
    except ModelNotFoundError as e:
        if required:
            raise
        logger.warning("no consistency model, c_score will be null: %s", e)
        return None


def _write_jsonl(rows: list[dict], path: Path) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def run_generation(cfg: EvalConfig) -> tuple[Path, list[dict], list[data.Example]]:
    """Generate with the configured system; write config.json and outputs.jsonl. Returns (run dir, rows, examples).

    Under `accelerate launch` each process generates for a contiguous shard of the examples on its own device, every
    process gets all rows back in input order, and only the main process writes."""
    began = time.perf_counter()
    examples = load_eval_examples(cfg)
    used = swap_personas(examples, cfg.swap_seed) if cfg.swap_persona else examples
    model, tokenizer = models.load_lm(cfg.model, device=distributed.process_device(cfg.device), dtype=cfg.dtype)
    selector = build_selector(cfg, model, tokenizer)
    gen_cfg = cfg.generation_config()
    rows = distributed.map_sharded(
        lambda part: run_system(cfg.system, part, model, tokenizer, gen_cfg, selector=selector), used
    )
    if cfg.swap_persona:
        for row, ex in zip(rows, examples, strict=True):
            row["original_persona"] = list(ex.persona)
            row["original_gold_label"] = list(ex.persona_label) if ex.persona_label is not None else None
    run_dir = cfg.run_dir()
    if not distributed.is_main_process():
        return run_dir, rows, examples
    run_dir.mkdir(parents=True, exist_ok=True)
    _write_jsonl(rows, run_dir / "outputs.jsonl")
    config = {
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
    (run_dir / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    logger.info("wrote %d outputs to %s in %.1f s", len(rows), run_dir, config["wall_time_s"])
    return run_dir, rows, examples


def _consistency_scores(consistency: Any, personas: list[list[str]], responses: list[str]) -> tuple[float, list]:
    """C-score of responses against personas, and each response's contradiction probability per sentence."""
    pairs = [(s, r) for persona, r in zip(personas, responses, strict=True) for s in persona]
    probs = iter(consistency.predict_proba(pairs))
    nested = [[next(probs) for _ in persona] for persona in personas]
    labels = [[max(range(3), key=row.__getitem__) - 1 for row in rows] for rows in nested]
    c_score = float(load_metric("c_score").compute(predictions=labels)["c_score"])
    return c_score, [[round(row[0], 6) for row in rows] for rows in nested]  # column 0 = contradict


def compute_run_metrics(rows: list[dict], consistency: Any) -> dict:
    """metrics.json content: text metrics, selection metrics (gold labels + selections), C-score (model given)."""
    metrics: dict[str, Any] = dict(compute_text_metrics([r["response"] for r in rows], [r["reference"] for r in rows]))
    scored = [r for r in rows if r["gold_label"] is not None and r["selected_index"] is not None]
    if scored:
        metrics.update(
            load_metric("selection").compute(
                predictions=[r["selected_index"] for r in scored], references=[r["gold_label"] for r in scored]
            )
        )
    metrics["c_score"] = None
    if consistency is not None:
        personas, responses = [r["persona"] for r in rows], [r["response"] for r in rows]
        metrics["c_score"], contradiction = _consistency_scores(consistency, personas, responses)
        for row, flags in zip(rows, contradiction, strict=True):
            row["contradiction"] = flags
        if "original_persona" in rows[0]:
            original, _ = _consistency_scores(consistency, [r["original_persona"] for r in rows], responses)
            metrics["c_score_swapped"] = metrics["c_score"]
            metrics["c_score_original"] = original
            metrics["c_score_swap_delta"] = metrics["c_score"] - original
    elif "original_persona" in rows[0]:
        metrics.update(c_score_swapped=None, c_score_original=None, c_score_swap_delta=None)
    metrics["n"] = len(rows)
    return metrics


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 100 else f"{value:.1f}"
    return str(value)


def metrics_table(names: list[str], metric_rows: list[dict]) -> str:
    """A Markdown table: one row per run, the known metric columns that any run has."""
    keys = [k for k in METRIC_ORDER if any(k in m for m in metric_rows)]
    lines = ["| run | " + " | ".join(keys) + " |", "|---|" + "---:|" * len(keys)]
    for name, m in zip(names, metric_rows, strict=True):
        lines.append(f"| {name} | " + " | ".join(_fmt(m.get(k)) for k in keys) + " |")
    return "\n".join(lines)


def _write_summary(run_dir: Path, cfg: EvalConfig, metrics: dict, rows: list[dict]) -> None:
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
            f"- **{row['id']}** partner: {row['history'][-1] if row['history'] else '(none)'}",
            f"  - reply: {row['response']}",
            f"  - gold: {row['reference']}",
        ]
    (run_dir / "summary.md").write_text("\n".join(lines) + "\n")


def run_evaluation(cfg: EvalConfig) -> Path:
    """Generate, score and write the whole run directory; returns its path.

    Under `accelerate launch` generation is split across the processes; the main process alone computes the metrics
    over all rows and writes the files, and every process returns once they are written."""
    began = time.perf_counter()
    run_dir, rows, _ = run_generation(cfg)
    if distributed.is_main_process():
        _score_and_write(cfg, run_dir, rows, began)
    distributed.wait_for_everyone()
    return run_dir


def _score_and_write(cfg: EvalConfig, run_dir: Path, rows: list[dict], began: float) -> None:
    """metrics.json, summary.md and (with a consistency model) the outputs' contradiction probabilities."""
    consistency = load_consistency(cfg.consistency_model, device=distributed.process_device(cfg.device))
    metrics = compute_run_metrics(rows, consistency) if rows else {"n": 0}
    metrics["wall_time_s"] = round(time.perf_counter() - began, 3)
    if consistency is not None:
        _write_jsonl(rows, run_dir / "outputs.jsonl")  # rows now carry contradiction probabilities
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    _write_summary(run_dir, cfg, metrics, rows)
    logger.info("run %s done in %.1f s", run_dir, metrics["wall_time_s"])


def _read_outputs(path: Path) -> list[dict]:
    """A run's outputs.jsonl; a line that is not a JSON object with the output keys names the file and line."""
    if not path.is_file():
        raise ConfigError(f"rescore: expected a run directory with outputs.jsonl, got no {path}")
    rows = []
    for where, _, row in data.iter_json_lines(path):
        missing = [k for k in RESCORE_KEYS if k not in row]
        if missing:
            raise DataFormatError(f"{where}: expected the keys {', '.join(RESCORE_KEYS)}, got no {missing[0]!r}")
        rows.append(row)
    if not rows:
        raise DataFormatError(f"{path}: expected at least one output line, got none")
    return rows


def rescore_run(run_dir: str | Path, consistency_model: str | None = None, device: str | None = None) -> dict:
    """Recompute a run's metrics from its outputs.jsonl (e.g. after retraining the consistency model), without
    generating again; rewrites metrics.json and the outputs' contradiction probabilities, keeps the generation's
    wall time. Returns the new metrics."""
    from pal_core.consistency import default_model_dir  # torch + transformers: imported only when scoring

    run_dir = Path(run_dir)
    rows = _read_outputs(run_dir / "outputs.jsonl")
    consistency = load_consistency(consistency_model, device=device, required=True)
    old_path = run_dir / "metrics.json"
    old = json.loads(old_path.read_text()) if old_path.is_file() else {}
    metrics = compute_run_metrics(rows, consistency)
    metrics["wall_time_s"] = old.get("wall_time_s")
    metrics["rescored"] = {
        "at": datetime.now(UTC).isoformat(),
        "consistency_model": str(consistency_model or default_model_dir()),
        "c_score_before": old.get("c_score"),
    }
    _write_jsonl(rows, run_dir / "outputs.jsonl")
    old_path.write_text(json.dumps(metrics, indent=2) + "\n")
    logger.info("rescored %s: c_score %s -> %.4f", run_dir, old.get("c_score"), metrics["c_score"])
    return metrics


def compare_runs(run_dirs: list[str | Path]) -> str:
    """The Markdown metrics table of several run directories (named `<dir name> (<system>)`)."""
    names, metric_rows = [], []
    for d in map(Path, run_dirs):
        path = d / "metrics.json"
        if not path.is_file():
            raise ConfigError(f"compare_runs: expected a run directory with metrics.json, got {d.resolve()}")
        system = json.loads((d / "config.json").read_text()).get("system") if (d / "config.json").is_file() else "?"
        names.append(f"{d.name} ({system})")
        metric_rows.append(json.loads(path.read_text()))
    return metrics_table(names, metric_rows)


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
    out.parent.mkdir(parents=True, exist_ok=True)
    _write_jsonl(rows, out)
    logger.info("wrote %d selections (%s) to %s", len(rows), cfg.selector, out)
    return out

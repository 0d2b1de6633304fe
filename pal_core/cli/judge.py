"""`pal train consistency` (fine-tune the persona-consistency cross-encoder) and `pal label` (fill persona_label).

Flags are the fields of ConsistencyConfig + ConsistencyDataConfig, and of LabelConfig (`--config file.yaml` too);
the modules that import torch are imported only when a command runs.
"""

from dataclasses import dataclass, field
from pathlib import Path

import typer

from pal_core.cli.config import ConfigSpec, config_command
from pal_core.errors import ConfigError, UnknownNameError


@dataclass
class ConsistencyDataConfig:
    """The pair files `pal train consistency` reads (ConsistencyConfig holds the trainer's settings)."""

    train: str | None = field(
        default=None, metadata={"help": "Training pairs, `sentence</s>sentence</s>label` (.gz ok); required."}
    )
    dev: str | None = field(
        default=None, metadata={"help": "Held-out pairs in the same format; accuracy is reported."}
    )
    threads: int = field(default=0, metadata={"help": "torch CPU threads; 0 = torch's default."})

    def __post_init__(self) -> None:
        if not self.train:
            raise ConfigError(f"ConsistencyDataConfig.train: expected a pairs file, got {self.train!r}")
        if self.threads < 0:
            raise ConfigError(f"ConsistencyDataConfig.threads: expected >= 0, got {self.threads}")


@dataclass
class LabelConfig:
    """`pal label`: which examples, which classifier, where the labelled copy goes."""

    data: str | None = field(
        default=None, metadata={"help": "Examples to label: ParlAI, PAL JSON, JSONL or RCDG (.gz too); required."}
    )
    out: str | None = field(
        default=None, metadata={"help": "Where to write: .json = PAL, .jsonl = JSONL (.gz too); required."}
    )
    model: str = field(default="", metadata={"help": "Trained model dir; '' = ~/.cache/pal-studio/consistency."})
    threshold: float = field(default=0.9, metadata={"help": "Entail probability needed to count a sentence as used."})
    fmt: str | None = field(default=None, metadata={"help": "Input format; default: guessed."})
    out_fmt: str | None = field(default=None, metadata={"help": "Output format: pal or jsonl; default: from --out."})
    batch_size: int = field(default=64, metadata={"help": "Pairs per forward pass."})
    device: str | None = field(default=None, metadata={"help": "cpu, cuda or cuda:N; default cuda if available."})

    def __post_init__(self) -> None:
        for name in ("data", "out"):
            if not getattr(self, name):
                raise ConfigError(f"LabelConfig.{name}: expected a path, got {getattr(self, name)!r}")
        if not 0 <= self.threshold <= 1:
            raise ConfigError(f"LabelConfig.threshold: expected in [0, 1], got {self.threshold}")
        if self.batch_size < 1:
            raise ConfigError(f"LabelConfig.batch_size: expected >= 1, got {self.batch_size}")


TRAIN_CONSISTENCY = ConfigSpec(("pal_core.judge.config:ConsistencyConfig", f"{__name__}:ConsistencyDataConfig"))
LABEL = ConfigSpec((f"{__name__}:LabelConfig",))


def _output_format(path: Path, fmt: str | None) -> str:
    """The write format: given, or from the name (`.jsonl[.gz]` -> jsonl, `.json[.gz]` -> pal)."""
    if fmt:
        return fmt
    name = path.name.removesuffix(".gz")
    if name.endswith(".jsonl"):
        return "jsonl"
    if name.endswith(".json"):
        return "pal"
    raise UnknownNameError(
        f"LabelConfig.out: expected a name ending in .json or .jsonl (optionally .gz) or --out_fmt, got {path}"
    )


def train_consistency_command(cfg, files: ConsistencyDataConfig) -> None:
    """Fine-tune the (persona sentence, response) entail/neutral/contradict classifier and print dev accuracy."""
    import torch

    from pal_core.judge.classifier import default_model_dir
    from pal_core.judge.nli_pairs import load_nli_pairs
    from pal_core.judge.silver import build_silver_pairs
    from pal_core.judge.train import train_consistency

    if files.threads > 0:
        torch.set_num_threads(files.threads)
    train_pairs = load_nli_pairs(files.train)
    dev_pairs = load_nli_pairs(files.dev) if files.dev else []
    metrics = train_consistency(train_pairs, dev_pairs, cfg, build_silver_pairs(cfg))
    print(
        f"saved to {cfg.output_dir or default_model_dir()} after {metrics['steps']} steps, {metrics['wall_time_s']} s"
    )
    if metrics["dev"]:
        per_class = ", ".join(f"{k} {v:.4f}" for k, v in metrics["dev"]["per_class_accuracy"].items())
        print(f"dev accuracy {metrics['dev']['accuracy']:.4f} on {metrics['n_dev']} pairs ({per_class})")


def label_command(cfg: LabelConfig) -> None:
    """Fill persona_label (PAL's format: used sentence indices, or [-1]) with the consistency model. Under
    `accelerate launch` each process labels a shard and the main process writes --out."""
    from pal_core.data.loaders import load_examples, write_examples
    from pal_core.inference import distributed
    from pal_core.judge.classifier import ConsistencyModel, label_examples

    out_path = Path(cfg.out)
    out_format = _output_format(out_path, cfg.out_fmt)
    examples = load_examples(cfg.data, fmt=cfg.fmt)
    classifier = ConsistencyModel.load(cfg.model or None, device=distributed.process_device(cfg.device))
    labelled = label_examples(classifier, examples, cfg.threshold, cfg.batch_size)
    if distributed.is_main_process():
        write_examples(labelled, out_path, fmt=out_format)
        used = sum(e.persona_label != (-1,) for e in labelled)
        print(f"labelled {len(labelled)} examples ({used} use a persona sentence) -> {out_path}")


def register(app: typer.Typer, train_app: typer.Typer) -> None:
    """Add `pal label` to the top-level app and `pal train consistency` to the train group."""
    config_command(
        train_app,
        "consistency",
        TRAIN_CONSISTENCY,
        train_consistency_command,
        "Fine-tune the (persona sentence, response) entail/neutral/contradict classifier; prints dev accuracy.",
    )
    config_command(
        app,
        "label",
        LABEL,
        label_command,
        "Fill persona_label (used sentence indices, or [-1]) with the consistency model.",
    )

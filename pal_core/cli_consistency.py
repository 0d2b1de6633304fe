"""`pal train consistency` (fine-tune the persona-consistency cross-encoder) and `pal label` (fill persona_label)."""

import dataclasses
from pathlib import Path
from typing import Annotated

import torch
import typer

from pal_core.consistency import ConsistencyModel, default_model_dir, label_examples
from pal_core.consistency_train import ConsistencyConfig, train_consistency
from pal_core.data import load_examples, write_examples
from pal_core.errors import UnknownNameError
from pal_core.nli_pairs import load_nli_pairs
from pal_core.silver import build_silver_pairs

# Defaults and help come from the config dataclass, so they are written once.
_CFG = {f.name: f for f in dataclasses.fields(ConsistencyConfig)}


def _opt(name: str) -> typer.models.OptionInfo:
    return typer.Option(help=_CFG[name].metadata["help"])


def _output_format(path: Path, fmt: str | None) -> str:
    """The write format: given, or from the name (`.jsonl[.gz]` -> jsonl, `.json[.gz]` -> pal)."""
    if fmt:
        return fmt
    name = path.name.removesuffix(".gz")
    if name.endswith(".jsonl"):
        return "jsonl"
    if name.endswith(".json"):
        return "pal"
    raise UnknownNameError(f"pal label: expected OUT ending in .json or .jsonl (optionally .gz) or --fmt, got {path}")


def train_consistency_command(
    train: Annotated[Path, typer.Option(help="Training pairs, `sentence</s>sentence</s>label` (.gz ok).")],
    dev: Annotated[Path | None, typer.Option(help="Held-out pairs in the same format; accuracy is reported.")] = None,
    model: Annotated[str, _opt("model")] = _CFG["model"].default,
    output_dir: Annotated[str, _opt("output_dir")] = _CFG["output_dir"].default,
    epochs: Annotated[int, _opt("epochs")] = _CFG["epochs"].default,
    lr: Annotated[float, _opt("lr")] = _CFG["lr"].default,
    batch_size: Annotated[int, _opt("batch_size")] = _CFG["batch_size"].default,
    max_length: Annotated[int, _opt("max_length")] = _CFG["max_length"].default,
    max_steps: Annotated[int, _opt("max_steps")] = _CFG["max_steps"].default,
    freeze_embeddings: Annotated[bool, _opt("freeze_embeddings")] = _CFG["freeze_embeddings"].default,
    swap_augment: Annotated[bool, _opt("swap_augment")] = _CFG["swap_augment"].default,
    silver: Annotated[str, _opt("silver")] = _CFG["silver"].default,
    silver_limit: Annotated[int, _opt("silver_limit")] = _CFG["silver_limit"].default,
    silver_contradictions: Annotated[bool, _opt("silver_contradictions")] = _CFG["silver_contradictions"].default,
    balance_classes: Annotated[bool, _opt("balance_classes")] = _CFG["balance_classes"].default,
    seed: Annotated[int, _opt("seed")] = _CFG["seed"].default,
    device: Annotated[str | None, _opt("device")] = _CFG["device"].default,
    threads: Annotated[int, typer.Option(help="torch CPU threads; 0 = torch's default.")] = 0,
) -> None:
    """Fine-tune the (persona sentence, response) entail/neutral/contradict classifier and print dev accuracy."""
    if threads > 0:
        torch.set_num_threads(threads)
    cfg = ConsistencyConfig(
        model=model,
        lr=lr,
        epochs=epochs,
        batch_size=batch_size,
        max_length=max_length,
        max_steps=max_steps,
        freeze_embeddings=freeze_embeddings,
        swap_augment=swap_augment,
        silver=silver,
        silver_limit=silver_limit,
        silver_contradictions=silver_contradictions,
        balance_classes=balance_classes,
        seed=seed,
        output_dir=output_dir,
        device=device,
    )
    train_pairs = load_nli_pairs(train)
    dev_pairs = load_nli_pairs(dev) if dev else []
    metrics = train_consistency(train_pairs, dev_pairs, cfg, build_silver_pairs(cfg))
    print(f"saved to {output_dir or default_model_dir()} after {metrics['steps']} steps, {metrics['wall_time_s']} s")
    if metrics["dev"]:
        per_class = ", ".join(f"{k} {v:.4f}" for k, v in metrics["dev"]["per_class_accuracy"].items())
        print(f"dev accuracy {metrics['dev']['accuracy']:.4f} on {metrics['n_dev']} pairs ({per_class})")


def label_command(
    in_path: Annotated[Path, typer.Argument(metavar="IN", help="Examples: ParlAI, PAL JSON, JSONL or RCDG.")],
    out_path: Annotated[Path, typer.Argument(metavar="OUT", help="Where to write: .json = PAL, .jsonl = JSONL.")],
    model: Annotated[str, typer.Option(help="Trained model dir; '' = ~/.cache/pal-studio/consistency.")] = "",
    threshold: Annotated[float, typer.Option(help="Entail probability needed to count a sentence as used.")] = 0.9,
    fmt: Annotated[str | None, typer.Option(help="Input format; default: guessed.")] = None,
    out_fmt: Annotated[str | None, typer.Option(help="Output format: pal or jsonl; default: from OUT's name.")] = None,
    batch_size: Annotated[int, typer.Option(help="Pairs per forward pass.")] = 64,
    device: Annotated[str | None, typer.Option(help="cpu, cuda or cuda:N; default cuda if available.")] = None,
) -> None:
    """Fill persona_label (PAL's format: used sentence indices, or [-1]) with the consistency model. Under
    `accelerate launch` each process labels a shard and the main process writes OUT."""
    from pal_core import distributed

    out_format = _output_format(out_path, out_fmt)
    examples = load_examples(in_path, fmt=fmt)
    classifier = ConsistencyModel.load(model or None, device=distributed.process_device(device))
    labelled = label_examples(classifier, examples, threshold, batch_size)
    if distributed.is_main_process():
        write_examples(labelled, out_path, fmt=out_format)
        used = sum(e.persona_label != (-1,) for e in labelled)
        print(f"labelled {len(labelled)} examples ({used} use a persona sentence) -> {out_path}")


def register(app: typer.Typer, train_app: typer.Typer) -> None:
    """Add `pal label` to the top-level app and `pal train consistency` to the train group."""
    train_app.command("consistency")(train_consistency_command)
    app.command("label")(label_command)

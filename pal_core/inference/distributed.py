"""Data-parallel inference over `accelerate` processes (`accelerate launch --num_processes N -m pal_core.cli ...`).

Each process takes a contiguous shard of the inputs (`PartialState.split_between_processes`), the results come back
to every process in input order (`gather_object`), and only the main process writes files. Without a launcher there
is one process and every helper here is a plain call. Training does not use this module: TRL's trainers shard their
own batches.
"""

import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

import torch
from accelerate import PartialState
from accelerate.utils import gather_object

from pal_core.errors import PalError
from pal_core.inference.models import pick_device

logger = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")


def _state(cpu: bool | None = None) -> PartialState:
    """accelerate's process state, made on first use (later calls share it). On the CPU accelerate must be told so:
    `PartialState()` in a launched process without a GPU reports one process of one (DistributedType.NO), and only
    `PartialState(cpu=True)` joins the gloo process group as one of N."""
    return PartialState(cpu=not torch.cuda.is_available() if cpu is None else cpu)


def process_count() -> int:
    """How many processes share the work (1 without a launcher)."""
    return _state().num_processes


def is_main_process() -> bool:
    """True on the one process that writes output files (always, without a launcher)."""
    return _state().is_main_process


def wait_for_everyone() -> None:
    """Barrier: every process waits here until all have arrived (a no-op for one process)."""
    _state().wait_for_everyone()


def process_device(device: str | None) -> str:
    """The device this process loads its models on. `device` is checked by `models.pick_device` ("cuda" without
    a GPU is a ConfigError); under a multi-process launch, "cuda" or no choice means this process's own GPU
    (cuda:<local rank>), so N processes use N GPUs instead of all sharing cuda:0."""
    chosen = pick_device(device)
    state = _state(cpu=chosen.type == "cpu")
    if state.num_processes > 1 and chosen.type == "cuda" and chosen.index is None:
        return str(state.device)
    return str(chosen)


def map_sharded(fn: Callable[[list[Item]], list[Result]], items: Sequence[Item]) -> list[Result]:
    """`fn` over this process's contiguous shard of `items` (one result per item); every process gets all the
    results back, in the order of `items`. All processes must call it with the same `items`."""
    state = _state()
    with state.split_between_processes(list(items)) as shard:
        results = list(fn(list(shard)))
    if len(results) != len(shard):
        raise PalError(f"map_sharded: expected one result per item of the shard ({len(shard)}), got {len(results)}")
    if state.num_processes == 1:
        return results
    logger.info("process %d/%d: %d of %d items", state.process_index, state.num_processes, len(shard), len(items))
    gathered = gather_object(results)
    if len(gathered) != len(items):
        raise PalError(f"map_sharded: expected {len(items)} gathered results, got {len(gathered)}")
    return gathered

"""The order a project's queue serves its items in (the project's `queue_order`): a pure function of the items and
the judgements so far, with no database access, so bench/queue_sim.py drives exactly what next_item() uses.

- "as_imported": the stored item position (random sides and order fixed when the project was created).
- "random": a stable order per project and annotator (a hash of project, annotator and item): the same on every call.
- "most_informative": the item whose system pair is least settled first. A pair's Bradley-Terry comparison is
  the log-odds of one system beating the other, estimated from that pair's own judgements (ties and both_bad count
  half a win each side, as in pal_core.analysis.human) with its Wald standard error; the pair whose 95% interval is
  furthest from excluding a tie (smallest |log-odds| / standard error, 0 for a pair never judged) goes first, and
  items of one pair follow the annotator's "random" order, so concurrent annotators do not queue on one item.
"""

import functools
import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from db.errors import StoreError

QUEUE_ORDERS = ("as_imported", "random", "most_informative")
DEFAULT_QUEUE_ORDER = "as_imported"
_MASK = (1 << 64) - 1
WIN_SHARE = {"A": 1.0, "B": 0.0, "tie": 0.5, "both_bad": 0.5}  # system A's share of a win, per preference


class QueueItem(NamedTuple):
    item_id: int
    position: int
    system_a: int  # id of the system shown as A (after the stored side shuffle)
    system_b: int


def check_queue_order(queue_order: object) -> str:
    if queue_order not in QUEUE_ORDERS:
        raise StoreError(f"queue_order: expected one of {', '.join(QUEUE_ORDERS)}, got {queue_order!r}")
    return queue_order


def _mix(x: int) -> int:
    """splitmix64's finaliser: a cheap, well-mixed 64-bit hash of an int."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


@functools.lru_cache(maxsize=256)
def random_order(project_id: int, user_id: int, item_ids: tuple[int, ...]) -> tuple[int, ...]:
    """`item_ids` in the annotator's stable random order (seeded by project and annotator, the same on every call;
    cached, since next_item() asks for it on every item)."""
    seed = int.from_bytes(hashlib.blake2b(f"{project_id}:{user_id}".encode(), digest_size=8).digest(), "big")
    return tuple(sorted(item_ids, key=lambda i: _mix(seed ^ i)))


def _pair(it: QueueItem) -> tuple[int, int]:
    return (it.system_a, it.system_b) if it.system_a <= it.system_b else (it.system_b, it.system_a)


def pair_tallies(items: Iterable[QueueItem], preferences: Iterable[tuple[int, str]]) -> dict[tuple[int, int], list]:
    """(lower system id, higher system id) -> [judgements, wins of the lower id's system], from (item id,
    preference) rows."""
    pair_of = {it.item_id: it for it in items}
    tallies: dict[tuple[int, int], list] = {}
    for item_id, preference in preferences:
        it = pair_of[item_id]
        share = WIN_SHARE[preference]
        key = _pair(it)
        first_wins = share if it.system_a == key[0] else 1.0 - share
        tally = tallies.setdefault(key, [0, 0.0])
        tally[0] += 1
        tally[1] += first_wins
    return tallies


def separation(n: int, wins: float) -> float:
    """|log-odds| / standard error of one pair's comparison after n judgements (`wins` of them for the first system):
    1.96 and above means its 95% interval excludes a tie. Half a judgement is added to each side so that a pair
    that one system always wins gets a finite value; 0.0 for a pair never judged."""
    if n == 0:
        return 0.0
    p = (wins + 0.5) / (n + 1.0)
    return abs(math.log(p / (1.0 - p))) * math.sqrt(n * p * (1.0 - p))


def rank_items(
    items: Sequence[QueueItem],
    *,
    queue_order: str,
    project_id: int,
    user_id: int,
    preferences: Iterable[tuple[int, str]] = (),
) -> list[int]:
    """Every item id of the project in the order `user_id` is served them under `queue_order`; `preferences` are
    the project's current judgements as (item id, preference A | B | tie | both_bad) (used by most_informative)."""
    if check_queue_order(queue_order) == "as_imported":
        return [it.item_id for it in sorted(items, key=lambda it: it.position)]
    shuffled = random_order(project_id, user_id, tuple(sorted(it.item_id for it in items)))
    if queue_order == "random":
        return list(shuffled)
    scores = {pair: separation(n, w) for pair, (n, w) in pair_tallies(items, preferences).items()}
    score = {it.item_id: scores.get(_pair(it), 0.0) for it in items}
    return sorted(shuffled, key=score.__getitem__)  # stable: the random order within a score


def serve_order(
    ranked: Iterable[int], *, user_id: int, k: int, judges: Mapping[int, set], mine: Mapping[int, str], held: Mapping
) -> list[int]:
    """The items `user_id` may take, best first: their own open reservations, then free items, then the ones they
    skipped or let lapse, each group in `ranked` order. `judges`: item -> users with a current judgement; `mine`:
    item -> the user's assignment status ("assigned", "skipped" or "lapsed"); `held`: item -> slots other users
    hold. Items the user judged or whose k slots others hold are left out (claim_first() re-checks under the lock)."""
    blocked = {cid for cid, users in judges.items() if user_id in users}
    blocked.update(cid for cid, n in held.items() if n >= k)
    own = {cid for cid, status in mine.items() if status == "assigned"} - blocked
    later = {cid for cid, status in mine.items() if status in ("skipped", "lapsed")} - blocked
    blocked.update(mine)  # placed above by status ("done" but no current judgement, i.e. undone: not offered)
    ranked = list(ranked)
    return (
        [c for c in ranked if c in own] + [c for c in ranked if c not in blocked] + [c for c in ranked if c in later]
    )

"""Judgements needed by each queue order (db/queue_order.py) until every adjacent pair of a Bradley-Terry ranking
has a 95% interval that excludes a tie, by simulation against a known ground truth.

Ground truth: 4 systems with log-strengths STRENGTHS (P(i beats j) = sigmoid(s_i - s_j)). A project is built by the
real store (db.store.create_project on a SQLite file: every pair of systems on each dialogue, sides and positions
shuffled by the project seed), with --judges annotators per item. --annotators simulated annotators take turns;
each has a sharpness b drawn from U(0.5, 1.0) and answers "tie" with probability TIE_RATE, else A with probability
sigmoid(b (s_A - s_B)). Each turn the annotator is served the first item of db.queue_order.serve_order(
db.queue_order.rank_items(...)) -- the functions next_item() calls -- and judges it. After each judgement the
ranking is refitted (pal_core.analysis.active.adjacent_differences, Wald intervals); the run stops at the first
judgement where every adjacent pair is separated. Reported: median (and quartiles) over seeds per order.

    python bench/queue_sim.py [--seeds 20] [--dialogues 200] [--judges 3] [--annotators 8]
"""

import argparse
import itertools
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import numpy as np  # noqa: E402
from scipy import optimize  # noqa: E402

from db import store  # noqa: E402
from db.assignments import queue_items  # noqa: E402
from db.queue_order import QUEUE_ORDERS, WIN_SHARE, rank_items, serve_order  # noqa: E402
from db.session import make_session_factory, upgrade_db  # noqa: E402
from pal_core.analysis.active import Z95, adjacent_differences  # noqa: E402

STRENGTHS = (0.0, 0.4, 0.8, 1.2)  # evenly spaced: each adjacent pair P(stronger wins) = sigmoid(0.4) = 0.60
SYSTEMS = ("s0", "s1", "s2", "s3")
TIE_RATE = 0.1


def _responses(system: str, n: int) -> bytes:
    rows = [
        {"id": f"q-{i}", "persona": ["i like tea.", "i run."], "history": ["hi"], "response": f"{system} {i}"}
        for i in range(n)
    ]
    return "\n".join(json.dumps(r) for r in rows).encode()


def build_projects(url: str, seeds: list[int], n_dialogues: int, judges: int) -> dict[int, tuple]:
    """One project per seed over systems s0..s3; seed -> (project id, its QueueItems, system id -> name)."""
    upgrade_db(url)
    factory = make_session_factory(url)
    with factory.begin() as s:
        store.create_user(s, actor=None, name="admin", password="simulation-only", role="admin")
        for name in SYSTEMS:
            store.import_responses_jsonl(s, actor=None, path=_responses(name, n_dialogues), system_name=name)
        names = {x["id"]: x["name"] for x in store.list_systems(s, actor="admin")}
        projects = {
            seed: store.create_project(
                s,
                actor="admin",
                name=f"sim-{seed}",
                system_names=list(SYSTEMS),
                annotators_per_item=judges,
                seed=seed,
            )["id"]
            for seed in seeds
        }
        items = {seed: queue_items(s, pid) for seed, pid in projects.items()}
    factory.kw["bind"].dispose()
    return {seed: (projects[seed], items[seed], names) for seed in seeds}


def store_latency(url: str, n_dialogues: int, n: int) -> dict[str, tuple[float, float]]:
    """Per queue order, a fresh project judged n times by one annotator through the real store (next_item, then
    record_judgement, one transaction each): (median, 90th percentile) milliseconds of next_item."""
    factory = make_session_factory(url)
    with factory.begin() as s:
        store.create_user(s, actor=None, name="timer", password="simulation-only", role="annotator")
    out = {}
    for order in QUEUE_ORDERS:
        with factory.begin() as s:
            pid = store.create_project(
                s, actor="admin", name=f"latency-{order}", system_names=list(SYSTEMS), queue_order=order
            )["id"]
        times = []
        for i in range(min(n, n_dialogues * 6)):
            with factory.begin() as s:
                start = time.perf_counter()
                item = store.next_item(s, actor="timer", project_id=pid)
                times.append(1000 * (time.perf_counter() - start))
            with factory.begin() as s:
                store.record_judgement(
                    s, actor="timer", item_id=item["item_id"], preference="B" if i % 3 == 0 else "A"
                )
        out[order] = (statistics.median(times), statistics.quantiles(times, n=10)[-1])
    factory.kw["bind"].dispose()
    return out


def fixed_split_gain(strengths: tuple[float, ...]) -> float:
    """How much fewer judgements the best FIXED share of judgements per pair needs than an even share (what random
    and as_imported give), to separate every adjacent pair at 95%, from the Bradley-Terry Fisher information at the
    true strengths (mean sharpness 0.75; a tie taken as 10% of the information lost): the most a non-adaptive
    order could save. Adaptive orders can do better: they react to the noise of each run."""
    s = 0.75 * np.sort(np.asarray(strengths))
    pairs = list(itertools.combinations(range(len(s)), 2))
    rows = [np.eye(len(s) - 1)[i:j].sum(axis=0) for i, j in pairs]  # a pair compares the sum of the gaps between
    info = [0.9 / (2 + 2 * math.cosh(s[j] - s[i])) for i, j in pairs]  # 0.9 p (1 - p)

    def needed(x: np.ndarray) -> float:  # judgements (up to a constant) for the worst adjacent pair
        share = np.abs(x) / np.abs(x).sum()
        fisher = sum(w * v * np.outer(r, r) for w, v, r in zip(share, info, rows, strict=True))
        return float(np.max(np.diag(np.linalg.inv(fisher + 1e-12 * np.eye(len(s) - 1))) / np.diff(s) ** 2))

    starts = [np.ones(len(pairs))] + [np.eye(len(pairs))[k] + 0.2 for k in range(len(pairs))]
    best = min(optimize.minimize(needed, x0, method="Nelder-Mead", options={"maxiter": 4000}).fun for x0 in starts)
    return 1 - best / needed(np.ones(len(pairs)))


def simulate(project, strengths, queue_order: str, seed: int, judges: int, n_annotators: int) -> dict:
    """Judge until every adjacent pair is separated (or no item is left); {"n", "correct_order", "separated"}."""
    project_id, items, names = project
    rng = np.random.default_rng([seed, QUEUE_ORDERS.index(queue_order)])
    sharpness = rng.uniform(0.5, 1.0, n_annotators)
    system_ids = sorted(names)
    index = {sid: i for i, sid in enumerate(system_ids)}
    truth = np.array([strengths[SYSTEMS.index(names[sid])] for sid in system_ids])
    by_id = {it.item_id: it for it in items}
    wins = np.zeros((len(system_ids), len(system_ids)))
    preferences, judged, held = [], {}, {}
    idle = turn = 0
    while idle < n_annotators:  # annotators take turns until none of them has an item left
        user, turn = 1000 + turn % n_annotators, turn + 1
        ranked = rank_items(
            items, queue_order=queue_order, project_id=project_id, user_id=user, preferences=preferences
        )
        # held: judges per item; counting the user's own judgement too is harmless, serve_order skips those items
        free = serve_order(ranked, user_id=user, k=judges, judges=judged, mine={}, held=held)
        if not free:
            idle += 1
            continue
        idle = 0
        it = by_id[free[0]]
        a, b = index[it.system_a], index[it.system_b]
        p_a = 1.0 / (1.0 + math.exp(-sharpness[user - 1000] * (truth[a] - truth[b])))
        preference = "tie" if rng.random() < TIE_RATE else ("A" if rng.random() < p_a else "B")
        preferences.append((it.item_id, preference))
        judged.setdefault(it.item_id, set()).add(user)
        held[it.item_id] = held.get(it.item_id, 0) + 1
        wins[a, b] += WIN_SHARE[preference]
        wins[b, a] += 1.0 - WIN_SHARE[preference]
        order, diff, se = adjacent_differences(wins)
        if np.all(diff - Z95 * se > 0):
            return {"n": len(preferences), "correct_order": bool(np.all(np.diff(truth[order]) < 0)), "separated": True}
    return {"n": len(preferences), "correct_order": False, "separated": False}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--dialogues", type=int, default=200)
    parser.add_argument("--judges", type=int, default=3, help="annotators per item")
    parser.add_argument("--annotators", type=int, default=8)
    parser.add_argument("--strengths", default=",".join(map(str, STRENGTHS)), help="true log-strengths of s0..s3")
    parser.add_argument("--latency", type=int, default=0, help="also time N next_item calls per order in the store")
    args = parser.parse_args(argv)
    strengths = tuple(float(x) for x in args.strengths.split(","))
    if args.seeds < 2:
        parser.error(f"--seeds: expected 2 or more (for quartiles), got {args.seeds}")
    if len(strengths) != len(SYSTEMS):
        parser.error(f"--strengths: expected {len(SYSTEMS)} comma-separated numbers, got {args.strengths!r}")
    start = time.perf_counter()
    seeds = list(range(args.seeds))
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'sim.db'}"
        projects = build_projects(url, seeds, args.dialogues, args.judges)
        latency = store_latency(url, args.dialogues, args.latency) if args.latency else {}
    print(
        f"ground truth log-strengths {dict(zip(SYSTEMS, strengths, strict=True))}, ties {TIE_RATE:.0%}, "
        f"{args.annotators} annotators (sharpness U(0.5, 1)), {args.dialogues} dialogues x 6 pairs x {args.judges} "
        f"judges = {args.dialogues * 6 * args.judges} slots, {args.seeds} seeds"
    )
    results = {}
    for order in QUEUE_ORDERS:
        runs = [simulate(projects[seed], strengths, order, seed, args.judges, args.annotators) for seed in seeds]
        results[order] = n = [r["n"] for r in runs]  # a run that never separated counts every judgement it made
        q1, _, q3 = statistics.quantiles(n, n=4)
        print(
            f"{order:>16}: median {statistics.median(n):6.0f}  quartiles {q1:5.0f}-{q3:<5.0f}  separated "
            f"{sum(r['separated'] for r in runs)}/{len(runs)}  true order at the stop "
            f"{sum(r['correct_order'] for r in runs)}/{len(runs)}"
        )
    for order, (median, p90) in latency.items():
        print(f"store.next_item, {order}, {args.latency} judgements: median {median:.1f} ms, p90 {p90:.1f} ms")
    base = statistics.median(results["random"])
    rng = np.random.default_rng(0)
    for order in ("as_imported", "most_informative"):
        n, n_random = np.array(results[order]), np.array(results["random"])
        resampled = [  # seeds resampled with replacement: how much the medians of 20-odd runs can move
            1 - np.median(rng.choice(n, len(n))) / np.median(rng.choice(n_random, len(n_random))) for _ in range(2000)
        ]
        low, high = np.percentile(resampled, [2.5, 97.5])
        print(
            f"{order} vs random: {100 * (1 - statistics.median(n) / base):+.1f}% fewer judgements "
            f"(bootstrap 95% interval over seeds {100 * low:+.0f}% to {100 * high:+.0f}%)"
        )
    print(
        f"best fixed split of judgements over the pairs vs an even split: {100 * fixed_split_gain(strengths):.0f}% fewer"
    )
    print(f"wall {time.perf_counter() - start:.0f} s, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

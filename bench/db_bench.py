"""Annotation store figures on a SQLite file (WAL): submits with 20 concurrent annotators, and the time to export
100,000 judgements (flat table to Parquet, preference pairs).

`--loop page` (default) runs the Annotate page's own loop, ui/annotate.py without Streamlit: each annotator takes
items with next_item as they come and every submit is record_judgement + next_item in one transaction, retried while
SQLite is locked; a submit the page would answer with an error counts as failed. `--loop record` times
record_judgement alone on items assigned up front.

    python bench/db_bench.py [--writers 20] [--per-writer 100] [--mode processes|threads] [--loop page|record]
        [--export-n 100000 (0: skip)]
"""

import argparse
import json
import multiprocessing
import queue
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from argon2 import PasswordHasher  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from db import store  # noqa: E402
from db.models import Assignment, Comparison, Judgement, User  # noqa: E402
from db.session import make_session_factory, read_session, run_in_transaction, upgrade_db  # noqa: E402
from ui import annotate  # noqa: E402


def write_run(run_dir: Path, system: str, n: int) -> Path:
    run_dir.mkdir(parents=True)
    (run_dir / "config.json").write_text(json.dumps({"system": system, "model": "bench"}), encoding="utf-8")
    with (run_dir / "outputs.jsonl").open("w", encoding="utf-8") as f:
        for i in range(n):
            f.write(
                json.dumps(
                    {
                        "id": f"b-{i}",
                        "persona": ["i like tea.", "i have two dogs.", "i run."],
                        "history": ["hi", "hello, how are you?"],
                        "response": f"{system} says {i}",
                        "selected_index": i % 3,
                    }
                )
                + "\n"
            )
    return run_dir


def setup(url: str, tmp: Path, *, n_items: int, users: list[str], k: int) -> int:
    """Users, two systems over n_items dialogues, a project with k annotators per item; returns its id."""
    upgrade_db(url)
    password_hash = PasswordHasher().hash("bench-password")
    factory = make_session_factory(url)
    with factory.begin() as s:
        store.create_user(s, actor=None, name="admin", password="bench-admin", role="admin")
        s.add_all(User(name=n, role="annotator", password_hash=password_hash) for n in users)
        for system in ("left", "right"):
            store.import_run(s, actor="admin", run_dir=write_run(tmp / system, system, n_items))
        pid = store.create_project(
            s, actor="admin", name="bench", system_names=["left", "right"], annotators_per_item=k
        )["id"]
    factory.kw["bind"].dispose()
    return pid


def writer(url: str, project_id: int, user: str, n: int, out) -> None:
    """Judge the n items assigned to `user`, timing each record_judgement transaction (begin to commit)."""
    factory = make_session_factory(url)
    with factory() as s:
        items = s.scalars(select(Assignment.comparison_id).join(User).where(User.name == user)).all()
    latencies = []
    for i, item_id in enumerate(items):
        start = time.perf_counter()
        run_in_transaction(
            factory,
            lambda s, item_id=item_id, i=i: store.record_judgement(
                s, actor=user, item_id=item_id, preference="AB"[i % 2], consistency_a=4, consistency_b=2, seconds=9.0
            ),
        )
        latencies.append(time.perf_counter() - start)
    factory.kw["bind"].dispose()
    out.put((latencies, 0))


def page_writer(url: str, project_id: int, user: str, n: int, out) -> None:
    """Judge up to n items as the Annotate page does (ui.annotate over a dict), timing each submit (record + next)."""
    factory = make_session_factory(url)
    with read_session(factory) as s:  # as the page reads it (pick_project): no write lock
        project = store.get_project(s, actor="admin", project_id=project_id)
    desk, state = annotate.Desk(factory=factory, user=user, project=project), {}
    annotate.init_state(state)
    annotate.refresh(state, desk)
    latencies, failed = [], 0
    for i in range(n):
        if state[annotate.ITEM] is None:
            break
        for name, value in (("preference", "AB"[i % 2]), ("consistency_a", 4), ("consistency_b", 2)):
            annotate.answer(state, name, value)
        start = time.perf_counter()
        annotate.submit(state, desk)
        latencies.append(time.perf_counter() - start)
        if annotate.pop_message(state):  # the page would show this error; the item stays
            failed += 1
    factory.kw["bind"].dispose()
    out.put((latencies, failed))


def bench_writes(tmp: Path, writers: int, per_writer: int, mode: str, loop: str) -> None:
    url = f"sqlite:///{tmp / 'writes.db'}"
    users = [f"w{i:02d}" for i in range(writers)]
    pid = setup(url, tmp / "w", n_items=per_writer, users=users, k=writers)
    if loop == "record":
        factory = make_session_factory(url)
        with factory.begin() as s:  # assigned up front, as an admin would: only judgements are timed
            for u in users:
                store.assign(s, actor="admin", project_id=pid, user=u, n=per_writer)
        factory.kw["bind"].dispose()
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue() if mode == "processes" else queue.Queue()
    kind = ctx.Process if mode == "processes" else threading.Thread
    target = page_writer if loop == "page" else writer
    workers = [kind(target=target, args=(url, pid, u, per_writer, results)) for u in users]
    start = time.perf_counter()
    for w in workers:
        w.start()
    outcomes = [results.get() for _ in workers]
    for w in workers:
        w.join()
    wall = time.perf_counter() - start
    latencies, failed = sorted(x for lat, _ in outcomes for x in lat), sum(f for _, f in outcomes)
    p50, p99 = (statistics.quantiles(latencies, n=100, method="inclusive")[q] for q in (49, 98))
    what = "submit (record_judgement + next_item)" if loop == "page" else "record_judgement"
    print(
        f"writes ({loop} loop): {writers} {mode} x {per_writer} = {len(latencies)} submits in {wall:.1f} s "
        f"({(len(latencies) - failed) / wall:.1f} stored/s), {failed} failed; {what} latency "
        f"p50 {p50 * 1e3:.1f} ms, p99 {p99 * 1e3:.1f} ms, max {latencies[-1] * 1e3:.1f} ms"
    )


def bench_export(tmp: Path, n_judgements: int) -> None:
    url = f"sqlite:///{tmp / 'export.db'}"
    users = [f"a{i:02d}" for i in range(20)]
    n_items = n_judgements // len(users)
    t0 = time.perf_counter()
    pid = setup(url, tmp / "e", n_items=n_items, users=users, k=len(users))
    factory = make_session_factory(url)
    with factory.begin() as s:  # bulk-load judgements directly: building the data is not what is measured
        user_ids = s.scalars(select(User.id).where(User.name.in_(users))).all()
        items = s.scalars(select(Comparison.id).where(Comparison.project_id == pid)).all()
        s.execute(
            insert(Judgement),
            [
                {
                    "user_id": u,
                    "comparison_id": c,
                    "kind": "judgement",
                    "preference": "AB"[(u + c) % 3 > 0],
                    "consistency_a": 4,
                    "consistency_b": 2,
                    "persona_used_a": 0,
                    "persona_used_b": -1,
                    "reason": "",
                    "seconds": 7.0,
                }
                for c in items
                for u in user_ids
            ],
        )
    print(f"export: built {len(items) * len(user_ids)} judgements in {time.perf_counter() - t0:.1f} s")
    with factory() as s:
        t = time.perf_counter()
        rows = store.judgements_frame(s, actor="admin", project_id=pid)
        t_frame = time.perf_counter() - t
        t = time.perf_counter()
        store.export_judgements_table(s, actor="admin", project_id=pid, path=tmp / "judgements.parquet")
        t_parquet = time.perf_counter() - t
        t = time.perf_counter()
        pairs = store.export_preferences(s, actor="admin", project_id=pid)
        t_pairs = time.perf_counter() - t
    print(
        f"export: judgements_frame {len(rows)} rows {t_frame:.2f} s; to Parquet (incl. frame) {t_parquet:.2f} s; "
        f"export_preferences (majority) {len(pairs)} pairs {t_pairs:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=20)
    parser.add_argument("--per-writer", type=int, default=100)
    parser.add_argument("--mode", choices=["processes", "threads"], default="processes")
    parser.add_argument("--loop", choices=["page", "record"], default="page")
    parser.add_argument("--export-n", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pal-db-bench-") as tmp:
        bench_writes(Path(tmp), args.writers, args.per_writer, args.mode, args.loop)
        if args.export_n:
            bench_export(Path(tmp), args.export_n)


if __name__ == "__main__":
    main()

"""Concurrency: 20 writers (10 processes and 10 threads) record 2,000 judgements, none lost or duplicated; 20 processes
taking items from the queue never give an item more judges than the project asks for."""

import multiprocessing
import threading
from collections import Counter

import pytest
from argon2 import PasswordHasher
from dbkit import write_run
from sqlalchemy import func, select

from db import store
from db.models import Assignment, Comparison, Judgement, User
from db.queue_order import QUEUE_ORDERS
from db.session import make_session_factory, run_in_transaction

N_WRITERS = 20
N_ITEMS = 100  # every writer judges every item: 20 x 100 = 2,000 judgements


def _crowd(
    s, tmp_path, name: str, n_items: int, judges: int, *, first: int, queue_order: str = "as_imported"
) -> tuple[int, list[str]]:
    """N_WRITERS annotators `<name>NN`, runs of systems fast and slow over n_items dialogues from d-<first>, and a
    project `name` over them with `judges` annotators per item served in `queue_order`; (project id, annotator
    names)."""
    names = [f"{name}{i:02d}" for i in range(N_WRITERS)]
    password_hash = PasswordHasher().hash("writer-password")  # hashed once: 20 argon2 hashes would dominate the test
    s.add_all(User(name=n, role="annotator", password_hash=password_hash) for n in names)
    for system in ("fast", "slow"):
        store.import_run(s, actor="admin", run_dir=write_run(tmp_path / system, system, n_items, first=first))
    project = store.create_project(
        s, actor="admin", name=name, system_names=["fast", "slow"], annotators_per_item=judges, queue_order=queue_order
    )
    return project["id"], names


@pytest.fixture
def busy_project(factory, tmp_path) -> tuple[int, list[str]]:
    """A project with N_ITEMS items, N_WRITERS annotators per item, each annotator assigned every item."""
    with factory.begin() as s:
        pid, names = _crowd(s, tmp_path, "writer", N_ITEMS, N_WRITERS, first=1000)
        for n in names:
            assert store.assign(s, actor="admin", project_id=pid, user=n, n=N_ITEMS) == N_ITEMS
    return pid, names


def _write_all(url: str, project_id: int, user: str, errors: list[str]) -> None:
    """One annotator: judge every item assigned to it, one short transaction per judgement."""
    factory = make_session_factory(url)
    try:
        with factory() as s:
            mine = s.scalars(
                select(Assignment.comparison_id).join(User).where(User.name == user).order_by(Assignment.id)
            ).all()
        for i, item_id in enumerate(mine):
            run_in_transaction(
                factory,
                lambda s, item_id=item_id, i=i: store.record_judgement(
                    s,
                    actor=user,
                    item_id=item_id,
                    preference="AB"[i % 2],
                    consistency_a=3,
                    consistency_b=4,
                    seconds=1.5,
                ),
            )
    except Exception as e:  # noqa: BLE001 - handed to the test, which fails with it
        errors.append(f"{user}: {e!r}")
        raise
    finally:
        factory.kw["bind"].dispose()


def test_concurrent_writers_lose_nothing(factory, db_url, busy_project):
    """Half the writers are processes (forked first: forking with live threads is unsafe), half are threads."""
    project_id, names = busy_project
    factory.kw["bind"].dispose()  # no pooled connection may cross the fork
    ctx = multiprocessing.get_context("fork")  # spawn would re-import SQLAlchemy in 10 fresh interpreters
    errors: list[str] = []
    processes = [ctx.Process(target=_write_all, args=(db_url, project_id, n, [])) for n in names[::2]]
    for p in processes:
        p.start()
    threads = [threading.Thread(target=_write_all, args=(db_url, project_id, n, errors)) for n in names[1::2]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for p in processes:
        p.join(timeout=120)
    assert errors == [] and [p.exitcode for p in processes] == [0] * len(processes)
    with factory() as s:
        total = s.scalar(select(func.count()).select_from(Judgement))
        distinct = s.execute(select(Judgement.user_id, Judgement.comparison_id).distinct()).all()
        per_user = Counter(r["user"] for r in store.judgements_frame(s, actor="admin", project_id=project_id))
    assert total == len(distinct) == N_WRITERS * N_ITEMS == 2_000
    assert per_user == dict.fromkeys(names, N_ITEMS)


JUDGES = 3  # annotators_per_item of the queue test
QUEUE_ITEMS = 60
PER_WRITER = 12  # 20 x 12 = 240 judgements wanted for 60 x 3 = 180 slots: the last slots are fought over


def _annotate_queue(url: str, project_id: int, user: str) -> None:
    """One annotator as the Annotate page works: take an item, then judge it and take the next in one transaction."""
    factory = make_session_factory(url)
    try:
        item = run_in_transaction(factory, lambda s: store.next_item(s, actor=user, project_id=project_id))
        for n in range(1, PER_WRITER + 1):
            if item is None:
                break

            def judge_and_next(s, item_id=item["item_id"], last=n == PER_WRITER):
                store.record_judgement(
                    s, actor=user, item_id=item_id, preference="A", consistency_a=3, consistency_b=4, seconds=1.0
                )
                return None if last else store.next_item(s, actor=user, project_id=project_id)  # no slot left held

            item = run_in_transaction(factory, judge_and_next)
    finally:
        factory.kw["bind"].dispose()


@pytest.mark.parametrize("queue_order", QUEUE_ORDERS)
def test_queue_never_gives_an_item_more_judges_than_the_project_asks(factory, db_url, tmp_path, queue_order):
    """20 processes take items and judge them at once (the PostgreSQL run failed this before items were claimed
    under FOR UPDATE SKIP LOCKED: 4-20 judges on some items, none on others), in every queue order: as_imported sends
    everyone to the same items, random and most_informative give each annotator an order of their own."""
    with factory.begin() as s:
        project_id, names = _crowd(s, tmp_path, "queue", QUEUE_ITEMS, JUDGES, first=500, queue_order=queue_order)
    factory.kw["bind"].dispose()
    ctx = multiprocessing.get_context("fork")
    processes = [ctx.Process(target=_annotate_queue, args=(db_url, project_id, n)) for n in names]
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=300)
    assert [p.exitcode for p in processes] == [0] * N_WRITERS
    with factory() as s:
        items = s.scalars(select(Comparison.id).where(Comparison.project_id == project_id)).all()
        rows = store.judgements_frame(s, actor="admin", project_id=project_id)
    per_item = Counter({i: 0 for i in items})
    per_item.update(r["item_id"] for r in rows)
    assert len(per_item) == QUEUE_ITEMS
    assert max(per_item.values()) == JUDGES  # never above the limit ...
    assert sorted(set(per_item.values())) == [JUDGES]  # ... and every slot filled: 240 wanted, 180 there
    assert len({(r["user"], r["item_id"]) for r in rows}) == len(rows) == QUEUE_ITEMS * JUDGES

"""Queue order (db/queue_order.py): the pure ranking next_item() calls, and next_item() following each project's
setting on both databases."""

import math
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from dbkit import new_project
from sqlalchemy import create_engine, inspect, select, text

from db import store
from db.assignments import queue_items
from db.errors import StoreError
from db.models import User
from db.queue_order import QueueItem, random_order, rank_items, separation, serve_order
from db.session import alembic_config, upgrade_db

ROOT = Path(__file__).resolve().parents[2]
# Four items over three systems (ids 1-3), positions deliberately not in id order.
ITEMS = [QueueItem(10, 2, 1, 2), QueueItem(11, 0, 2, 1), QueueItem(12, 1, 1, 3), QueueItem(13, 3, 3, 2)]


def _rank(order: str, user_id: int = 7, project_id: int = 1, preferences=()) -> list[int]:
    return rank_items(ITEMS, queue_order=order, project_id=project_id, user_id=user_id, preferences=preferences)


def test_as_imported_is_the_stored_position():
    assert _rank("as_imported") == [11, 12, 10, 13]


def test_random_is_stable_per_annotator_and_project():
    many = [QueueItem(i, i, 1, 2) for i in range(200)]
    orders = {(p, u): rank_items(many, queue_order="random", project_id=p, user_id=u) for p in (1, 2) for u in (7, 8)}
    again = rank_items(list(reversed(many)), queue_order="random", project_id=1, user_id=7)
    assert again == orders[1, 7]  # the same order on every call, whatever order the items come in
    assert sorted(orders[1, 7]) == list(range(200))  # a permutation
    assert len({tuple(o) for o in orders.values()}) == 4  # another annotator or project: another order
    assert orders[1, 7] != list(range(200))
    assert list(random_order(1, 7, tuple(range(200)))) == orders[1, 7]


def test_separation_is_the_wald_z_of_the_pairs_log_odds():
    assert separation(0, 0.0) == 0.0 and separation(10, 5.0) == 0.0  # never judged; an even split
    p = 70.5 / 101  # 70 wins of 100, half a judgement added to each side
    assert separation(100, 70.0) == pytest.approx(math.log(p / (1 - p)) * math.sqrt(100 * p * (1 - p)), rel=1e-12)
    assert separation(100, 70.0) == pytest.approx(separation(100, 30.0), rel=1e-12)  # either side: the same
    assert separation(100, 70.0) > 1.96 > separation(100, 55.0)  # 70 of 100 excludes a tie at 95%, 55 does not
    assert 0 < separation(4, 4.0) < separation(40, 40.0) < math.inf  # all wins: finite, growing with n


def test_most_informative_serves_the_least_settled_pair_first():
    # pair (1, 2): items 10 and 11, eight judgements all won by system 1 (as A on item 10, as B on item 11)
    decided = [(10, "A")] * 4 + [(11, "B")] * 4
    # pair (1, 3) (item 12): 3 wins of 4 for system 1 (a tie and a both_bad count half a win each side)
    leaning = [(12, "A"), (12, "A"), (12, "tie"), (12, "both_bad")]
    assert separation(8, 8.0) > separation(4, 3.0) > 0.0
    ranked = _rank("most_informative", preferences=decided + leaning)
    assert ranked[:2] == [13, 12]  # (2, 3) never judged, then (1, 3) leaning, ...
    assert set(ranked[2:]) == {10, 11}  # the decided pair last
    assert ranked[2:] == [i for i in _rank("random") if i in (10, 11)]
    assert _rank("most_informative") == _rank("random")  # nothing judged yet: every pair scores 0


def test_unknown_queue_order_is_refused():
    with pytest.raises(
        StoreError, match=r"queue_order: expected one of as_imported, random, most_informative, got 'x'"
    ):
        _rank("x")


def test_serve_order_own_reservation_then_free_then_skipped():
    ranked = [1, 2, 3, 4, 5, 6, 7]
    judges = {1: {9}, 2: {5}}  # user 9 judged item 1
    mine = {3: "skipped", 5: "assigned", 6: "lapsed", 7: "done"}  # 7: judged, then undone
    held = {2: 1, 4: 2}  # item 4: both slots held by others
    assert serve_order(ranked, user_id=9, k=2, judges=judges, mine=mine, held=held) == [5, 2, 3, 6]


@pytest.mark.parametrize("order", ["as_imported", "random", "most_informative"])
def test_next_item_serves_in_the_projects_order(factory, order):
    project_id = new_project(factory, f"order-{order}", annotators_per_item=1, queue_order=order, seed=4)
    with factory() as s:
        alice = s.scalar(select(User.id).where(User.name == "alice"))
        expected = rank_items(queue_items(s, project_id), queue_order=order, project_id=project_id, user_id=alice)
    served = []
    for _ in range(len(expected)):
        with factory.begin() as s:
            item = store.next_item(s, actor="alice", project_id=project_id)
            served.append(item["item_id"])
            store.record_judgement(s, actor="alice", item_id=item["item_id"], preference="tie")  # keeps scores at 0
    assert served == expected  # one pair, always tied: most_informative is the random order here
    with factory.begin() as s:
        assert store.next_item(s, actor="alice", project_id=project_id) is None


def _take_and_judge(factory, project_id: int, answer) -> int:
    """alice takes her next item and answers answer(item id); the item id."""
    with factory.begin() as s:
        item_id = store.next_item(s, actor="alice", project_id=project_id)["item_id"]
        store.record_judgement(s, actor="alice", item_id=item_id, preference=answer(item_id))
    return item_id


def test_most_informative_moves_to_the_pair_least_settled(factory):
    with factory.begin() as s:
        project_id = store.create_project(
            s, actor="admin", name="mi", system_names=["sys_a", "sys_b", "sys_c"], queue_order="most_informative"
        )["id"]
        items = {it.item_id: it for it in queue_items(s, project_id)}

    def pair(item_id):
        return frozenset((items[item_id].system_a, items[item_id].system_b))

    first = [_take_and_judge(factory, project_id, lambda _: "A") for _ in range(3)]
    assert len({pair(i) for i in first}) == 3  # a pair never judged goes before one judged once
    winner = {pair(i): items[i].system_a for i in first}  # each pair's one judgement: A won

    def even_out(item_id):  # the answer that makes the pair's two judgements disagree
        return "A" if items[item_id].system_b == winner[pair(item_id)] else "B"

    fourth = _take_and_judge(factory, project_id, even_out)
    fifth = _take_and_judge(factory, project_id, lambda _: "tie")
    assert pair(fifth) == pair(fourth)  # split 1-1, the least settled pair: served again before the others


def test_queue_order_is_stored_changed_and_audited(factory, count):
    project_id = new_project(factory, "setting", queue_order="random")
    with factory() as s:
        assert store.get_project(s, actor="vic", project_id=project_id)["queue_order"] == "random"
    with factory.begin() as s:
        changed = store.set_queue_order(s, actor="admin", project_id=project_id, queue_order="most_informative")
    assert changed["queue_order"] == "most_informative"
    with factory() as s:
        (entry,) = [a for a in store.list_audit(s, actor="admin") if a["action"] == "set_queue_order"]
    assert entry["details"] == {"previous": "random", "queue_order": "most_informative"}
    with pytest.raises(StoreError, match=r"queue_order: expected one of .*, got 'fastest'"), factory.begin() as s:
        store.set_queue_order(s, actor="admin", project_id=project_id, queue_order="fastest")
    with pytest.raises(StoreError, match=r"'alice' has role 'annotator'; this needs 'admin'"), factory.begin() as s:
        store.set_queue_order(s, actor="alice", project_id=project_id, queue_order="random")
    with factory() as s:
        assert store.get_project(s, actor="vic", project_id=project_id)["queue_order"] == "most_informative"


def test_migration_gives_existing_projects_their_old_order(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "d5c488546a42")  # the revision before queue_order
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO projects (name, guidelines, questions, required_questions, annotators_per_item, "
                "gold_settings, system_names, created_by, created_at) "
                "VALUES ('old', '', '[]', '[]', 1, '{}', '[]', 'admin', '2026-12-01 00:00:00')"
            )
        )
    upgrade_db(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT queue_order FROM projects")).scalars().all() == ["as_imported"]
    command.downgrade(alembic_config(url), "d5c488546a42")
    with engine.connect() as conn:
        assert "queue_order" not in {c["name"] for c in inspect(conn).get_columns("projects")}
        assert conn.execute(text("SELECT name FROM projects")).scalars().all() == ["old"]  # nothing else lost
    engine.dispose()


def test_queue_sim_prints_a_line_per_order():
    """bench/queue_sim.py end to end on a tiny project (2 seeds, 10 dialogues): it drives the real ranking."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "queue_sim.py"), "--seeds", "2", "--dialogues", "10"],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    ).stdout
    lines = out.splitlines()
    assert "10 dialogues x 6 pairs x 3 judges = 180 slots, 2 seeds" in lines[0]
    assert [line.split(":")[0].strip() for line in lines[1:4]] == ["as_imported", "random", "most_informative"]
    assert lines[-1].startswith("wall ") and "load average" in lines[-1]

"""Judge slots (db/assignments.py): a reservation or a judgement holds one of an item's annotators_per_item slots; a
skipped item or a reservation older than RESERVATION_TTL gives its slot back, and a judgement on a slot that went to
someone else is refused with a clear message instead of exceeding the limit."""

import pytest
from dbkit import new_project
from sqlalchemy import select, update

from db import store
from db.assignments import RESERVATION_TTL
from db.errors import StoreError
from db.models import Assignment, Judgement, User, utc_now


@pytest.fixture
def one_judge(factory) -> int:
    """A project whose items take one judge each."""
    return new_project(factory, "solo", annotators_per_item=1, seed=2)


def _take(factory, actor, project_id) -> int | None:
    with factory.begin() as s:
        item = store.next_item(s, actor=actor, project_id=project_id)
    return None if item is None else item["item_id"]


def test_a_reserved_item_is_not_handed_out_twice(factory, one_judge):
    taken = [_take(factory, a, one_judge) for a in ("alice", "bob", "carol")]
    assert len(set(taken)) == 3  # each annotator got a different item
    with factory.begin() as s:
        assert store.assign(s, actor="admin", project_id=one_judge, user="bob", n=100) == 6 - 3


def test_skip_gives_the_slot_back(factory, one_judge):
    with factory.begin() as s:
        first = store.next_item(s, actor="alice", project_id=one_judge)["item_id"]
        store.skip(s, actor="alice", item_id=first)
    assert _take(factory, "bob", one_judge) == first  # the lowest free item again
    with factory.begin() as s:
        store.record_judgement(s, actor="bob", item_id=first, preference="A")
    with pytest.raises(StoreError, match=rf"item_id: expected an item with a free judge slot, got item {first}"):
        with factory.begin() as s:  # alice's old (skipped) assignment no longer holds a slot
            store.record_judgement(s, actor="alice", item_id=first, preference="B")


def test_a_lapsed_reservation_frees_the_slot(factory, one_judge):
    item = _take(factory, "alice", one_judge)
    with factory.begin() as s:  # alice walked away long ago
        alice = s.scalars(select(User.id).where(User.name == "alice")).one()
        s.execute(
            update(Assignment).where(Assignment.user_id == alice).values(updated_at=utc_now() - 2 * RESERVATION_TTL)
        )
    assert _take(factory, "bob", one_judge) == item
    with factory.begin() as s:
        store.record_judgement(s, actor="bob", item_id=item, preference="A")
    with pytest.raises(StoreError, match="whose 1 slot\\(s\\) other annotators hold"), factory.begin() as s:
        store.record_judgement(s, actor="alice", item_id=item, preference="B")
    with factory() as s:
        judges = s.scalars(select(Judgement.user_id).where(Judgement.comparison_id == item)).all()
    assert len(judges) == 1

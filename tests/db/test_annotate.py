"""Annotation (db/annotate.py): next item, append-only judgements with validation, undo, skip, adjudication."""

import pytest
from dbkit import N_DIALOGUES
from sqlalchemy import select

from db import store
from db.errors import NotFoundError, PermissionDeniedError, StoreError
from db.models import Assignment, AuditLog, Judgement

RATINGS = {"consistency_a": 4, "consistency_b": 2}


@pytest.fixture
def project_id(factory) -> int:
    with factory.begin() as s:
        return store.create_project(
            s, actor="admin", name="p", system_names=["sys_a", "sys_b"], annotators_per_item=2, seed=1
        )["id"]


def _judge(factory, actor, project_id, preference="A", **extra) -> dict:
    with factory.begin() as s:
        item = store.next_item(s, actor=actor, project_id=project_id)
        store.record_judgement(s, actor=actor, item_id=item["item_id"], preference=preference, **{**RATINGS, **extra})
    return item


def test_next_item_shows_item_without_system_names(factory, project_id):
    with factory.begin() as s:
        item = store.next_item(s, actor="alice", project_id=project_id)
    assert item["persona"] == ["i like tea.", "i have two dogs."] and item["history"] == ["hi", "hello, how are you?"]
    assert {item["response_a"], item["response_b"]} == {
        f"sys_a reply {item['dialogue_id'][2:]}",
        f"sys_b reply {item['dialogue_id'][2:]}",
    }
    assert item["contradiction_a"] == [0.0, 0.1] and item["progress"] == {
        "done": 0,
        "total": N_DIALOGUES,
        "n_items": N_DIALOGUES,
    }
    assert not any("sys_" in str(v) for k, v in item.items() if k not in ("response_a", "response_b"))
    with factory.begin() as s:  # asking again before judging gives the same item
        assert store.next_item(s, actor="alice", project_id=project_id)["item_id"] == item["item_id"]


def test_next_item_never_repeats_and_respects_overlap(factory, project_id):
    seen = {
        name: [_judge(factory, name, project_id)["item_id"] for _ in range(N_DIALOGUES)] for name in ("alice", "bob")
    }
    assert all(len(set(ids)) == N_DIALOGUES for ids in seen.values())
    with factory.begin() as s:
        assert store.next_item(s, actor="alice", project_id=project_id) is None
        assert store.next_item(s, actor="carol", project_id=project_id) is None  # every item has its 2 judges
        progress = store.project_progress(s, actor="vic", project_id=project_id)
    assert progress["done"] == 2 * N_DIALOGUES and progress["complete_items"] == N_DIALOGUES
    assert [a["done"] for a in progress["annotators"]] == [N_DIALOGUES, N_DIALOGUES]


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"preference": "C"}, r"preference: expected one of A, B, tie, both_bad, got 'C'"),
        ({"consistency_a": 6}, r"consistency_a: expected an int from 1 to 5, got 6"),
        ({"consistency_b": None}, r"consistency_b: expected an int from 1 to 5, got None"),
        ({"fluency_a": 0}, r"fluency_a: expected an int from 1 to 5, got 0"),
        ({"persona_used_b": 2}, r"persona_used_b: expected -1 \(none\) or a persona index 0..1, got 2"),
        ({"contradiction_a": "yes"}, r"contradiction_a: expected true or false, got 'yes'"),
        ({"seconds": -1}, r"seconds: expected a number from 0 to 86400, got -1"),
    ],
)
def test_record_judgement_rejects_bad_values_and_writes_nothing(factory, count, project_id, change, match):
    with factory.begin() as s:
        item = store.next_item(s, actor="alice", project_id=project_id)
    before = count(Judgement), count(AuditLog)
    args = {"actor": "alice", "item_id": item["item_id"], "preference": "A", **RATINGS, **change}
    with pytest.raises(StoreError, match=match), factory.begin() as s:
        store.record_judgement(s, **args)
    assert (count(Judgement), count(AuditLog)) == before


@pytest.mark.parametrize(
    ("actor", "item", "error", "match"),
    [
        ("bob", "alice's", PermissionDeniedError, r"item_id: expected an item assigned to 'bob', got item \d+"),
        ("vic", "alice's", PermissionDeniedError, r"'vic' has role 'viewer'; this needs 'annotator'"),
        ("ghost", "alice's", PermissionDeniedError, r"unknown user 'ghost'"),
        ("alice", 12345, NotFoundError, r"item_id: expected an existing comparison item, got 12345"),
    ],
)
def test_record_judgement_refuses_unassigned_items_and_wrong_users(
    factory, count, project_id, actor, item, error, match
):
    with factory.begin() as s:
        assigned = store.next_item(s, actor="alice", project_id=project_id)["item_id"]
    with pytest.raises(error, match=match), factory.begin() as s:
        store.record_judgement(
            s, actor=actor, item_id=assigned if item == "alice's" else item, preference="B", **RATINGS
        )
    assert count(Judgement) == 0


def test_second_judgement_supersedes_first(factory, project_id):
    item = _judge(factory, "alice", project_id, "A")
    with factory.begin() as s:
        second = store.record_judgement(s, actor="alice", item_id=item["item_id"], preference="B", **RATINGS)
        frame = store.judgements_frame(s, actor="vic", project_id=project_id)
    assert second["supersedes_id"] is not None
    assert [(r["item_id"], r["preference"]) for r in frame] == [(item["item_id"], "B")]


def test_undo_last_appends_row_and_gives_item_back(factory, count, project_id):
    first = _judge(factory, "alice", project_id)
    _judge(factory, "alice", project_id)
    with factory.begin() as s:
        undone = store.undo_last(s, actor="alice", project_id=project_id)
        assert store.next_item(s, actor="alice", project_id=project_id)["item_id"] == undone["item_id"]
        again = store.undo_last(s, actor="alice", project_id=project_id)
        assert again["item_id"] == first["item_id"]
        assert store.undo_last(s, actor="alice", project_id=project_id) is None
    assert count(Judgement) == 4  # two judgements + two undo rows: nothing deleted or updated
    with factory() as s:
        kinds = s.scalars(select(Judgement.kind).order_by(Judgement.id)).all()
        assert kinds == ["judgement", "judgement", "undo", "undo"]
        assert store.judgements_frame(s, actor="vic", project_id=project_id) == []


def test_get_item_reopens_the_item_an_undo_gave_back(factory, project_id):
    first = _judge(factory, "alice", project_id, reason="first")
    with factory.begin() as s:
        undone = store.undo_last(s, actor="alice", project_id=project_id)
        item = store.get_item(s, actor="alice", item_id=undone["item_id"])
        shown = store.next_item(s, actor="alice", project_id=project_id)
    assert undone["item_id"] == first["item_id"]
    assert item == shown  # the same dict next_item returns, progress included
    assert item["progress"]["done"] == 0 and item["guidelines"] == first["guidelines"]


def test_get_item_refuses_unassigned_and_unknown_items(factory, project_id):
    with factory.begin() as s:
        item_id = store.next_item(s, actor="alice", project_id=project_id)["item_id"]
    with pytest.raises(PermissionDeniedError, match=rf"expected an item assigned to 'bob', got item {item_id}"):
        with factory.begin() as s:
            store.get_item(s, actor="bob", item_id=item_id)
    with pytest.raises(NotFoundError, match=r"item_id: expected an existing comparison item, got 9999"):
        with factory.begin() as s:
            store.get_item(s, actor="alice", item_id=9999)
    with pytest.raises(PermissionDeniedError, match="'vic' has role 'viewer'"), factory.begin() as s:
        store.get_item(s, actor="vic", item_id=item_id)


def test_skip_moves_item_to_the_end(factory, project_id):
    with factory.begin() as s:
        first = store.next_item(s, actor="alice", project_id=project_id)["item_id"]
        store.skip(s, actor="alice", item_id=first)
        assert store.next_item(s, actor="alice", project_id=project_id)["item_id"] != first
        status = s.scalars(select(Assignment.status).where(Assignment.comparison_id == first)).one()
        assert status == "skipped"
        with pytest.raises(PermissionDeniedError, match=r"expected an open item assigned to 'bob'"):
            store.skip(s, actor="bob", item_id=first)


def test_assign_preassigns_items(factory, project_id):
    with factory.begin() as s:
        assert store.assign(s, actor="admin", project_id=project_id, user="carol", n=4) == 4
        with pytest.raises(StoreError, match=r"user: expected an annotator or admin, got viewer 'vic'"):
            store.assign(s, actor="admin", project_id=project_id, user="vic", n=1)
        progress = store.project_progress(s, actor="admin", project_id=project_id)
    assert progress["annotators"] == [
        {"user": "carol", "done": 0, "assigned": 4, "skipped": 0, "median_seconds": None}
    ]


def test_disagreements_and_adjudication(factory, project_id):
    item = _judge(factory, "alice", project_id, "A", reason="uses the persona")
    with factory.begin() as s:
        assert store.next_item(s, actor="bob", project_id=project_id)["item_id"] == item["item_id"]
        store.record_judgement(s, actor="bob", item_id=item["item_id"], preference="B", **RATINGS)
        queue = store.list_disagreements(s, actor="vic", project_id=project_id)
        assert [q["item_id"] for q in queue] == [item["item_id"]]
        assert {(j["user"], j["preference"]) for j in queue[0]["judgements"]} == {("alice", "A"), ("bob", "B")}
        assert {queue[0]["system_a"], queue[0]["system_b"]} == {"sys_a", "sys_b"}
        with pytest.raises(PermissionDeniedError, match="this needs 'admin'"):
            store.adjudicate(s, actor="alice", item_id=item["item_id"], preference="A")
        first = store.adjudicate(s, actor="admin", item_id=item["item_id"], preference="A", reason="persona fit")
        second = store.adjudicate(s, actor="admin", item_id=item["item_id"], preference="B")
        assert second["supersedes_id"] == first["id"]
        assert store.list_disagreements(s, actor="vic", project_id=project_id) == []
        pairs = store.export_preferences(s, actor="vic", project_id=project_id)
    assert [(p["provenance"]["decision"], p["provenance"]["agreement"]) for p in pairs] == [("adjudicated", 0.5)]

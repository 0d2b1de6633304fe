"""Annotation (db/annotate.py): next item, append-only judgements with validation, undo, skip, adjudication."""

import pytest
from dbkit import N_DIALOGUES, judge, new_project
from sqlalchemy import select

from db import store
from db.errors import NotFoundError, PermissionDeniedError, StoreError
from db.models import Assignment, AuditLog, Judgement

RATINGS = {"consistency_a": 4, "consistency_b": 2}


@pytest.fixture
def project_id(factory) -> int:
    return new_project(factory, "p", annotators_per_item=2, seed=1)


def _judge(factory, actor, project_id, preference="A", **extra) -> dict:
    return judge(factory, actor, project_id, preference, **{**RATINGS, **extra})


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
        ({"consistency_a": 6}, r"consistency_a: expected an int from 1 to 5 or None \(unanswered\), got 6"),
        ({"fluency_a": 3}, r"fluency_a: expected no answer \(the project does not ask 'fluency'\), got 3"),
        (
            {"persona_used_b": 2},
            r"persona_used_b: expected -1 \(none\), a persona index 0..1 or None \(unanswered\), got 2",
        ),
        ({"contradiction_a": "yes"}, r"contradiction_a: expected true, false or None \(unanswered\), got 'yes'"),
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
        frame = store.judgements_frame(s, actor="rita", project_id=project_id)
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
        assert store.judgements_frame(s, actor="rita", project_id=project_id) == []


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
        queue = store.list_disagreements(s, actor="rita", project_id=project_id)
        assert [q["item_id"] for q in queue] == [item["item_id"]]
        assert {(j["user"], j["preference"]) for j in queue[0]["judgements"]} == {("alice", "A"), ("bob", "B")}
        assert {queue[0]["system_a"], queue[0]["system_b"]} == {"sys_a", "sys_b"}
        with pytest.raises(PermissionDeniedError, match="this needs 'admin'"):
            store.adjudicate(s, actor="alice", item_id=item["item_id"], preference="A")
        first = store.adjudicate(s, actor="admin", item_id=item["item_id"], preference="A", reason="persona fit")
        second = store.adjudicate(s, actor="admin", item_id=item["item_id"], preference="B")
        assert second["supersedes_id"] == first["id"]
        assert store.list_disagreements(s, actor="rita", project_id=project_id) == []
        pairs = store.export_preferences(s, actor="rita", project_id=project_id)
    assert [(p["provenance"]["decision"], p["provenance"]["agreement"]) for p in pairs] == [("adjudicated", 0.5)]


def test_unanswered_questions_are_stored_as_null(factory, project_id):
    with factory.begin() as s:
        item = store.next_item(s, actor="alice", project_id=project_id)
        done = store.record_judgement(s, actor="alice", item_id=item["item_id"], preference="B", consistency_b=5)
    with factory.begin() as s:
        row = s.get(Judgement, done["id"])
        stored = {f: getattr(row, f) for f in ("consistency_a", "consistency_b", "persona_used_a", "persona_used_b")}
        stored.update(contradiction_a=row.contradiction_a, contradiction_b=row.contradiction_b)
    assert stored == {
        "consistency_a": None,
        "consistency_b": 5,
        "persona_used_a": None,  # not -1: "uses none" is an answer, unanswered is not
        "persona_used_b": None,
        "contradiction_a": None,  # not False
        "contradiction_b": None,
    }
    with factory.begin() as s:
        (exported,) = store.judgements_frame(s, actor="admin", project_id=project_id)
    assert exported["consistency_a"] is None and exported["persona_used_a"] is None


def test_required_questions_refuse_a_judgement_naming_what_is_missing(factory, count):
    with factory.begin() as s:
        project = store.create_project(
            s,
            actor="admin",
            name="strict",
            system_names=["sys_a", "sys_b"],
            questions=["consistency", "persona_used", "contradiction"],
            required_questions=["consistency", "persona_used"],
        )
        item = store.next_item(s, actor="alice", project_id=project["id"])
    assert project["required_questions"] == ["consistency", "persona_used"]
    before = count(Judgement)
    with (
        pytest.raises(
            StoreError, match=r"answers: expected the required consistency_b, persona_used_a, persona_used_b, got them"
        ),
        factory.begin() as s,
    ):
        store.record_judgement(s, actor="alice", item_id=item["item_id"], preference="A", consistency_a=4)
    assert count(Judgement) == before
    with factory.begin() as s:  # -1 ("uses no persona sentence") is an answer; contradiction is not required
        store.record_judgement(
            s,
            actor="alice",
            item_id=item["item_id"],
            preference="A",
            consistency_a=4,
            consistency_b=2,
            persona_used_a=-1,
            persona_used_b=0,
        )
    assert count(Judgement) == before + 1


def test_project_rejects_unknown_or_unasked_required_questions(factory):
    with pytest.raises(StoreError, match=r"required_questions: expected distinct names from consistency, got"):
        with factory.begin() as s:
            store.create_project(
                s,
                actor="admin",
                name="bad",
                system_names=["sys_a", "sys_b"],
                questions=["consistency"],
                required_questions=["fluency"],
            )


def test_sides_are_randomised_per_annotator_and_stored(factory, project_id):
    items = range(1, 40)
    by_user = {u: [store.sides_swapped(i, u) for i in items] for u in ("alice", "bob", "carol")}
    assert len({tuple(v) for v in by_user.values()}) > 1  # not one fixed order for every annotator
    assert by_user["alice"] == [store.sides_swapped(i, "alice") for i in items]  # stable for one annotator
    item = _judge(factory, "alice", project_id)
    with factory.begin() as s:
        row = s.scalars(select(Judgement).where(Judgement.comparison_id == item["item_id"])).one()
    assert row.sides_swapped == store.sides_swapped(item["item_id"], "alice")


def test_swap_sides_maps_shown_answers_to_item_sides():
    shown = {"preference": "A", "consistency_a": 5, "consistency_b": 1, "persona_used_a": -1, "reason": "x"}
    assert store.swap_sides(shown, False) == shown
    assert store.swap_sides(shown, True) == {
        "preference": "B",
        "consistency_b": 5,
        "consistency_a": 1,
        "persona_used_b": -1,
        "reason": "x",
    }
    assert store.swap_sides(store.swap_sides(shown, True), True) == shown


def test_own_judgements_are_listed_and_reopened_with_their_answers(factory, project_id):
    first = _judge(factory, "alice", project_id, preference="B", persona_used_a=1)
    _judge(factory, "bob", project_id)
    with factory.begin() as s:
        mine = store.list_my_judgements(s, actor="alice", project_id=project_id)
        assert [(m["item_id"], m["preference"], m["persona_used_a"]) for m in mine] == [(first["item_id"], "B", 1)]
        assert not any("sys_" in str(v) for v in mine[0].values())
        undone = store.undo_last(s, actor="alice", project_id=project_id)
        again = store.get_own_judgement(s, actor="alice", judgement_id=undone["judgement_id"])
        assert (again["preference"], again["consistency_a"], again["persona_used_a"]) == ("B", 4, 1)
        assert store.list_my_judgements(s, actor="alice", project_id=project_id) == []
        bobs = store.judgements_frame(s, actor="admin", project_id=project_id)[0]["judgement_id"]
    with pytest.raises(PermissionDeniedError, match=r"expected one of 'alice'.s own judgements"), factory.begin() as s:
        store.get_own_judgement(s, actor="alice", judgement_id=bobs)


def test_export_treats_unanswered_as_missing(factory, project_id):
    # item 1: alice says the chosen reply uses no persona sentence (-1), bob leaves it unanswered
    first = _judge(factory, "alice", project_id, preference="A", persona_used_a=-1)
    assert _judge(factory, "bob", project_id, preference="A")["item_id"] == first["item_id"]
    second = _judge(factory, "alice", project_id, preference="A")  # nobody answers persona_used: system's choice
    with factory.begin() as s:
        pairs = {p["provenance"]["item_id"]: p for p in store.export_preferences(s, actor=None, project_id=project_id)}
        strict = store.export_preferences(s, actor=None, project_id=project_id, min_agreement=0.5)
    one, two = pairs[first["item_id"]], pairs[second["item_id"]]
    assert (one["persona_sentence"], one["provenance"]["persona_sentence_source"]) == (None, "annotators")
    assert one["provenance"]["agreement"] == 1.0
    assert two["provenance"]["persona_sentence_source"] == "system" and two["persona_sentence"] is not None
    assert two["provenance"]["agreement"] is None  # one judge: no agreement to speak of
    assert [p["provenance"]["item_id"] for p in strict] == [first["item_id"]]  # the single-judge item is dropped

"""Comparison projects (db/projects.py): pairs over shared dialogues, stored random sides, sampling, gold items."""

import pytest
from dbkit import N_DIALOGUES, SYSTEMS
from sqlalchemy import select

from db import store
from db.errors import NotFoundError, PermissionDeniedError, StoreError
from db.models import Comparison, Project, Response, System


def _sides(factory, project_id):
    with factory() as s:
        rows = s.execute(
            select(Comparison, System.name)
            .join(Response, Response.id == Comparison.response_a_id)
            .join(System)
            .where(Comparison.project_id == project_id)
        ).all()
    return rows


def test_create_project_pairs_every_system_pair_with_stored_random_sides(factory):
    with factory.begin() as s:
        project = store.create_project(
            s,
            actor="admin",
            name="p1",
            system_names=list(SYSTEMS),
            guidelines="Be fair.",
            questions=["consistency"],
            annotators_per_item=2,
            seed=3,
        )
    assert project["n_items"] == 3 * N_DIALOGUES and project["systems"] == list(SYSTEMS)
    assert project["guidelines"] == "Be fair." and project["annotators_per_item"] == 2
    assert project["queue_order"] == "as_imported"  # the default: the stored position
    rows = _sides(factory, project["id"])
    assert len({c.position for c, _ in rows}) == len(rows)  # a stored serving order
    assert {name for _, name in rows} == set(SYSTEMS)  # every system sometimes on the left: sides were shuffled
    with factory() as s:
        again = store.get_project(s, actor="vic", project_id=project["id"])
        assert again["n_items"] == project["n_items"]
        assert [p["name"] for p in store.list_projects(s, actor="alice")] == ["p1"]


def test_create_project_same_seed_same_items(factory):
    with factory.begin() as s:
        a = store.create_project(s, actor="admin", name="a", system_names=["sys_a", "sys_b"], n_items=4, seed=7)
        b = store.create_project(s, actor="admin", name="b", system_names=["sys_a", "sys_b"], n_items=4, seed=7)
    key = [sorted((c.dialogue_id, c.response_a_id, c.position) for c, _ in _sides(factory, p["id"])) for p in (a, b)]
    assert key[0] == key[1] and len(key[0]) == 4


def test_create_project_gold_items_are_stored_as_sides(factory):
    with factory.begin() as s:
        project = store.create_project(
            s,
            actor="admin",
            name="g",
            system_names=["sys_a", "sys_b"],
            n_items=2,
            gold_items={"d-1": "sys_b", "d-2": "tie"},
            seed=0,
        )
    assert project["n_gold"] == 2 and project["n_items"] == 2  # gold items survive the n_items sample
    with factory() as s:
        items = s.scalars(select(Comparison).where(Comparison.project_id == project["id"])).all()
        for item in items:
            assert item.is_gold
            if item.dialogue.external_id == "d-1":
                assert item.gold_answer == ("A" if item.response_a.system.name == "sys_b" else "B")
            else:
                assert item.gold_answer == "tie"


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"system_names": ["sys_a"]}, StoreError, r"system_names: expected two or more distinct systems"),
        ({"annotators_per_item": 0}, StoreError, r"annotators_per_item: expected an int >= 1, got 0"),
        ({"n_items": 0}, StoreError, r"n_items: expected None or an int >= 1, got 0"),
        ({"gold_items": {"d-99": "sys_a"}}, NotFoundError, r"gold_items: expected ids of dialogues shared"),
        ({"gold_items": {"d-1": "sys_c"}}, StoreError, r"gold_items\['d-1'\]: expected one of the project's systems"),
        (
            {"queue_order": "fastest"},
            StoreError,
            r"queue_order: expected one of as_imported, random, most_informative, got 'fastest'",
        ),
        ({"actor": "alice"}, PermissionDeniedError, r"'alice' has role 'annotator'; this needs 'admin'"),
    ],
)
def test_create_project_bad_input_writes_nothing(factory, count, kwargs, error, match):
    args = {"actor": "admin", "name": "bad", "system_names": ["sys_a", "sys_b"], **kwargs}
    with pytest.raises(error, match=match), factory.begin() as s:
        store.create_project(s, **args)
    assert count(Project) == 0 and count(Comparison) == 0


def test_create_project_needs_shared_dialogues_and_new_name(factory, tmp_path):
    from dbkit import write_run

    with factory.begin() as s:
        store.import_run(s, actor="admin", run_dir=write_run(tmp_path / "far", "far", 2, first=100))
        store.create_project(s, actor="admin", name="dup", system_names=["sys_a", "sys_b"])
    with pytest.raises(StoreError, match=r"expected systems that answered the same dialogues"), factory.begin() as s:
        store.create_project(s, actor="admin", name="x", system_names=["sys_a", "far"])
    with pytest.raises(StoreError, match=r"name: expected a new project name, got existing 'dup'"):
        with factory.begin() as s:
            store.create_project(s, actor="admin", name="dup", system_names=["sys_a", "sys_b"])
    with pytest.raises(NotFoundError, match=r"project_id: expected an existing project, got 999"):
        with factory() as s:
            store.get_project(s, actor="vic", project_id=999)

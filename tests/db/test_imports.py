"""Importing run directories and responses JSONL (db/imports.py): counts, reuse of dialogues, and malformed files
that raise a clear ImportFormatError and write nothing."""

import json

import pytest
from dbkit import N_DIALOGUES, SYSTEMS, write_run
from sqlalchemy import select

from db import store
from db.errors import ImportFormatError, NotFoundError, PermissionDeniedError, StoreError
from db.models import AuditLog, Dialogue, Response, System


def test_import_run_adds_system_and_reuses_dialogues(factory, tmp_path):
    run = write_run(tmp_path / "run", "new_sys", 8, first=N_DIALOGUES - 2)  # 2 known dialogues + 6 new ones
    with factory.begin() as s:
        result = store.import_run(s, actor="admin", run_dir=run)
    assert result["system"] == "new_sys" and result["n_responses"] == 8 and result["n_new_dialogues"] == 6
    with factory() as s:
        systems = {x["name"]: x for x in store.list_systems(s, actor="vic")}
    assert sorted(systems) == sorted([*SYSTEMS, "new_sys"])
    assert systems["new_sys"]["n_responses"] == 8 and systems["new_sys"]["model"] == "new_sys-model"
    assert systems["new_sys"]["config"]["system"] == "new_sys"


def test_import_run_name_override_and_jsonl_import(factory, count, tmp_path):
    run = write_run(tmp_path / "run", "ignored", 3)
    with factory.begin() as s:
        assert store.import_run(s, actor=None, run_dir=run, system_name="renamed")["system"] == "renamed"
        result = store.import_responses_jsonl(s, actor="admin", path=run / "outputs.jsonl", system_name="from_jsonl")
    assert result["n_responses"] == 3 and result["n_new_dialogues"] == 0
    assert count(System) == len(SYSTEMS) + 2


def _bad_lines(tmp_path, lines):
    return write_run(tmp_path / "bad", "bad_sys", 0, lines=lines)


GOOD = {"id": "x-1", "persona": ["i like tea."], "history": ["hi"], "response": "hello"}


@pytest.mark.parametrize(
    ("second_line", "match"),
    [
        ("{not json", r"outputs\.jsonl:2: expected a JSON object, got invalid JSON"),
        (
            json.dumps({**GOOD, "id": "x-2", "persona": "i like tea."}),
            r"outputs\.jsonl:2: expected 'persona' as a list of strings, got 'i like tea.'",
        ),
        (
            json.dumps({k: v for k, v in GOOD.items() if k != "response"} | {"id": "x-2"}),
            r"outputs\.jsonl:2: expected 'response' as a string, got nothing",
        ),
        (
            json.dumps({**GOOD, "id": "x-2", "selected_index": -5}),
            r"outputs\.jsonl:2: expected 'selected_index' as an int in -1\.\.0 \(-1 = none\) or null, got -5",
        ),
        (
            json.dumps(GOOD),
            r"outputs\.jsonl:2: expected a unique 'id', got duplicate 'x-1' \(also on line 1\)",
        ),
        ("[1, 2]", r"outputs\.jsonl:2: expected a JSON object, got list"),
    ],
)
def test_import_run_malformed_line_writes_nothing(factory, count, tmp_path, second_line, match):
    run = _bad_lines(tmp_path, [json.dumps(GOOD), second_line])
    before = [count(m) for m in (System, Dialogue, Response, AuditLog)]
    with pytest.raises(ImportFormatError, match=match), factory.begin() as s:
        store.import_run(s, actor="admin", run_dir=run)
    assert [count(m) for m in (System, Dialogue, Response, AuditLog)] == before


def test_import_run_conflicting_dialogue_writes_nothing(factory, count, tmp_path):
    changed = {**GOOD, "id": "d-0"}  # d-0 exists with another persona
    run = _bad_lines(tmp_path, [json.dumps(GOOD), json.dumps(changed)])
    with pytest.raises(
        ImportFormatError, match=r"outputs\.jsonl:2: expected the persona and history already stored for id 'd-0'"
    ):
        with factory.begin() as s:
            store.import_run(s, actor="admin", run_dir=run)
    assert count(Response) == len(SYSTEMS) * N_DIALOGUES


def test_import_run_missing_files_and_bad_config(factory, tmp_path):
    with pytest.raises(ImportFormatError, match=r"config\.json: expected a run config, got no such file"):
        with factory.begin() as s:
            store.import_run(s, actor="admin", run_dir=tmp_path / "nowhere")
    run = write_run(tmp_path / "r", "s", 1)
    (run / "config.json").write_text('{"model": "m"}', encoding="utf-8")
    with pytest.raises(
        ImportFormatError, match=r"config\.json:1: expected 'system' as a string of 1-128 characters, got None"
    ):
        with factory.begin() as s:
            store.import_run(s, actor="admin", run_dir=run)
    (run / "outputs.jsonl").unlink()
    with pytest.raises(ImportFormatError, match=r"outputs\.jsonl: expected a responses JSONL file, got no such"):
        with factory.begin() as s:
            store.import_run(s, actor="admin", run_dir=run, system_name="s")


def test_import_run_refuses_existing_name_and_non_admins(factory, tmp_path):
    run = write_run(tmp_path / "run", "sys_a", 2)
    with pytest.raises(StoreError, match=r"system_name: expected a new system name, got existing 'sys_a'"):
        with factory.begin() as s:
            store.import_run(s, actor="admin", run_dir=run)
    with pytest.raises(PermissionDeniedError, match="'alice' has role 'annotator'"), factory.begin() as s:
        store.import_run(s, actor="alice", run_dir=run, system_name="other")
    with pytest.raises(PermissionDeniedError, match="unknown user"), factory.begin() as s:
        store.list_systems(s, actor="ghost")


def test_unknown_system_lists_known_ones(factory):
    with pytest.raises(NotFoundError, match=r"expected one of the imported systems \(sys_a, sys_b, sys_c\), got 'z'"):
        with factory.begin() as s:
            store.create_project(s, actor="admin", name="p", system_names=["sys_a", "z"])


def test_register_system_without_responses(factory, count, tmp_path):
    config = {"trained_from": "preferences.jsonl", "max_steps": 2}
    with factory.begin() as s:
        result = store.register_system(s, actor="admin", name=" dpo-1 ", model=str(tmp_path / "model"), config=config)
    assert result == {"system": "dpo-1", "system_id": result["system_id"], "n_responses": 0, "n_new_dialogues": 0}
    with factory() as s:
        systems = {x["name"]: x for x in store.list_systems(s, actor="vic")}
        audit = s.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first()
    assert systems["dpo-1"]["model"] == str(tmp_path / "model") and systems["dpo-1"]["config"] == config
    assert systems["dpo-1"]["run_dir"] == "" and systems["dpo-1"]["n_responses"] == 0
    assert (audit.actor, audit.action, audit.target) == ("admin", "import_system", "dpo-1")
    assert count(Response) == len(SYSTEMS) * N_DIALOGUES


def test_register_system_with_run_dir_imports_its_responses(factory, tmp_path):
    run = write_run(tmp_path / "run", "ignored_name", 3)
    (run / "config.json").unlink()  # only outputs.jsonl is needed: the caller gives name, model and config
    with factory.begin() as s:
        result = store.register_system(s, actor=None, name="dpo-2", model="m", config={}, run_dir=run)
        systems = {x["name"]: x for x in store.list_systems(s, actor="vic")}
    assert result["n_responses"] == 3 and result["n_new_dialogues"] == 0
    assert systems["dpo-2"]["run_dir"] == str(run.resolve()) and systems["dpo-2"]["n_responses"] == 3


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"name": " "}, StoreError, r"name: expected 1-128 characters, got ' '"),
        ({"model": 3}, StoreError, r"model: expected a string of at most 255 characters, got 3"),
        ({"config": []}, StoreError, r"config: expected a dict, got list"),
        ({"name": "sys_a"}, StoreError, r"expected a new system name, got existing 'sys_a'"),
        ({"actor": "alice"}, PermissionDeniedError, r"'alice' has role 'annotator'"),
    ],
)
def test_register_system_rejects_bad_input(factory, count, kwargs, error, match):
    args = {"actor": "admin", "name": "new", "model": "m", "config": {}, **kwargs}
    with pytest.raises(error, match=match), factory.begin() as s:
        store.register_system(s, **args)
    assert count(System) == len(SYSTEMS)

"""Hiding and deleting a system's run (admin): a hidden run leaves the run lists but keeps its judgements; a delete
is refused while a project compares the system; both write an audit row."""

import pytest
from dbkit import judge, new_project

from db import store
from db.errors import PermissionDeniedError, StoreError


def _names(factory, **kw) -> list[str]:
    with factory() as s:
        return [x["name"] for x in store.list_systems(s, actor="vic", **kw)]


def test_hidden_system_leaves_lists_and_keeps_judgements(factory):
    pid = new_project(factory, "hide", seed=0)
    judge(factory, "alice", pid, "A")
    with factory.begin() as s:
        assert store.hide_system(s, actor="admin", name="sys_b") == {"system": "sys_b", "hidden": True}
    assert _names(factory) == ["sys_a", "sys_c"]
    assert _names(factory, include_hidden=True) == ["sys_a", "sys_b", "sys_c"]
    with factory() as s:
        rows = store.judgements_frame(s, actor="rita", project_id=pid)
        audit = [(a["action"], a["target"]) for a in store.list_audit(s, actor="admin")]
    assert len(rows) == 1 and {rows[0]["system_a"], rows[0]["system_b"]} == {"sys_a", "sys_b"}
    assert ("hide_system", "sys_b") in audit
    with factory.begin() as s:
        store.hide_system(s, actor="admin", name="sys_b", hidden=False)
    assert _names(factory) == ["sys_a", "sys_b", "sys_c"]


def test_delete_refused_for_a_compared_system_and_done_for_another(factory):
    new_project(factory, "compared", seed=0)
    with factory.begin() as s, pytest.raises(StoreError, match="compared in project\\(s\\) 'compared': hide it"):
        store.delete_system(s, actor="admin", name="sys_a")
    with factory.begin() as s:
        assert store.delete_system(s, actor="admin", name="sys_c") == {"system": "sys_c", "n_responses": 6}
    assert _names(factory, include_hidden=True) == ["sys_a", "sys_b"]
    with factory() as s:
        assert any(
            a["action"] == "delete_system" and a["target"] == "sys_c" for a in store.list_audit(s, actor="admin")
        )


@pytest.mark.parametrize("call", [store.hide_system, store.delete_system])
def test_only_admins_hide_or_delete(factory, call):
    with factory.begin() as s, pytest.raises(PermissionDeniedError, match="this needs 'admin'"):
        call(s, actor="rita", name="sys_c")

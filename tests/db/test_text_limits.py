"""Text the store refuses before writing, the same on SQLite and PostgreSQL (issue 22 items 10 and 11): NUL
characters anywhere (PostgreSQL cannot store them) and strings longer than their column."""

import pytest
from dbkit import new_project, write_run
from sqlalchemy import String

from db import store
from db.errors import StoreError
from db.models import AuditLog, Base, Judgement, Project, System, User


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda s: store.login(s, name="ann\x00", password="whatever-pw"), "users.name"),
        (lambda s: store.create_user(s, actor="admin", name="e\x00ve", password="long-enough", role="viewer"), "name"),
        (lambda s: store.create_project(s, actor="admin", name="p\x00", system_names=["sys_a", "sys_b"]), "name"),
    ],
)
def test_nul_in_text_is_refused_naming_the_field(factory, count, call, field):
    before = count(User), count(Project), count(AuditLog)
    with pytest.raises(StoreError, match=rf"{field}: expected text without NUL characters"), factory.begin() as s:
        call(s)
    assert (count(User), count(Project), count(AuditLog)) == before


def test_nul_in_a_judgement_reason_is_refused(factory, count):
    pid = new_project(factory, "p")
    with factory.begin() as s:
        item = store.next_item(s, actor="alice", project_id=pid)
    with pytest.raises(StoreError, match=r"reason: expected text without NUL characters"), factory.begin() as s:
        store.record_judgement(s, actor="alice", item_id=item["item_id"], preference="A", reason="fine\x00")
    assert count(Judgement) == 0


def test_run_dir_over_the_column_length_is_refused_on_both_databases(factory, count, tmp_path):
    deep = tmp_path
    while len(str(deep)) <= 1100:
        deep = deep / ("d" * 100)
    run = write_run(deep, "long", 2)
    before = count(System)
    with pytest.raises(StoreError, match=r"systems.run_dir: expected at most 1024 characters, got 1,\d{3}"):
        with factory.begin() as s:
            store.import_run(s, actor="admin", run_dir=run, system_name="long")
    assert count(System) == before


def test_every_bounded_string_column_checks_its_length(factory):
    """Each String(n) column of the models refuses n + 1 characters before the database sees them."""
    bounded = [
        (t.name, c.name, getattr(c.type, "length", None)) for t in Base.metadata.sorted_tables for c in t.columns
    ]
    bounded = [(t, c, n) for t, c, n in bounded if n is not None]
    assert ("systems", "run_dir", 1024) in bounded and ("users", "name", 64) in bounded
    for table, column, length in bounded:
        column_type = Base.metadata.tables[table].columns[column].type
        assert isinstance(column_type.impl, String)
        with pytest.raises(StoreError, match=rf"^{table}.{column}: expected at most {length} characters"):
            column_type.process_bind_param("x" * (length + 1), None)
        assert column_type.process_bind_param("x" * length, None) == "x" * length

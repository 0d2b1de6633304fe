"""Exports (db/exports.py): the flat judgements table and preference pairs with their options."""

import io

import pandas as pd
import pytest
from dbkit import judge, new_project

from db import store
from db.errors import StoreError

RATINGS = {"consistency_a": 5, "consistency_b": 1}


@pytest.fixture
def judged(factory) -> int:
    """A project over sys_a/sys_b with 3 judges per item; item 1: A,A,B; item 2: tie,tie,A; item 3: both_bad x3."""
    pid = new_project(factory, "p", annotators_per_item=3, n_items=3, gold_items={"d-0": "sys_a"}, seed=0)
    plan = {"alice": ["A", "tie", "both_bad"], "bob": ["A", "tie", "both_bad"], "carol": ["B", "A", "both_bad"]}
    for user, prefs in plan.items():
        for i, pref in enumerate(prefs):
            judge(factory, user, pid, pref, persona_used_a=1 if user != "carol" else 0, seconds=10 + i, **RATINGS)
    return pid


def test_judgements_frame_has_flat_current_rows(factory, judged):
    with factory() as s:
        rows = store.judgements_frame(s, actor="rita", project_id=judged)
    assert len(rows) == 9 and {r["user"] for r in rows} == {"alice", "bob", "carol"}
    first = rows[0]
    assert first["winner"] == {"A": first["system_a"], "B": first["system_b"]}[first["preference"]]
    assert {first["system_a"], first["system_b"]} == {"sys_a", "sys_b"}
    assert first["consistency_a"] == 5 and first["seconds"] == 10.0 and first["created_at"].tzinfo is not None
    assert sum(r["is_gold"] for r in rows) == 3


def test_export_preferences_majority_drops_ties_and_both_bad(factory, judged):
    with factory() as s:
        pairs = store.export_preferences(s, actor="rita", project_id=judged)
        items = {r["item_id"]: r for r in store.judgements_frame(s, actor="rita", project_id=judged)}
    assert len(pairs) == 1
    pair, item = pairs[0], items[pairs[0]["provenance"]["item_id"]]
    winner = item["system_a"]  # A won 2 of 3
    assert pair["provenance"]["systems"] == {"chosen": winner, "rejected": item["system_b"]}
    assert pair["chosen"].startswith(winner) and pair["rejected"].startswith(item["system_b"])
    assert pair["provenance"]["annotator_ids"] == ["alice", "bob"]
    assert pair["provenance"]["agreement"] == pytest.approx(2 / 3) and pair["provenance"]["n_judgements"] == 3
    assert pair["persona_sentence"] == "i have two dogs."  # alice and bob ticked persona sentence 1 for side A
    assert set(pair) == {"id", "persona", "history", "persona_sentence", "chosen", "rejected", "provenance"}


def test_export_preferences_options(factory, judged):
    with factory() as s:
        keep_ties = store.export_preferences(s, actor="rita", project_id=judged, drop_ties=False)
        strict = store.export_preferences(s, actor="rita", project_id=judged, min_agreement=0.9)
        each = store.export_preferences(s, actor="rita", project_id=judged, majority=False, drop_ties=False)
        with pytest.raises(StoreError, match=r"min_agreement: expected a number from 0 to 1, got 2"):
            store.export_preferences(s, actor="rita", project_id=judged, min_agreement=2)
    assert len(keep_ties) == 2 and [p["provenance"].get("tie", False) for p in keep_ties].count(True) == 1
    assert strict == []
    assert len(each) == 6 and all(len(p["provenance"]["annotator_ids"]) == 1 for p in each)  # no both_bad pairs
    assert len({p["id"] for p in each}) == 6


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_export_judgements_table(factory, judged, tmp_path, suffix):
    with factory.begin() as s:
        path = store.export_judgements_table(s, actor="rita", project_id=judged, path=tmp_path / f"j.{suffix}")
    frame = pd.read_csv(path) if suffix == "csv" else pd.read_parquet(path)
    assert len(frame) == 9 and {"user", "system_a", "preference", "is_gold", "gold_answer"} <= set(frame.columns)


def test_export_judgements_table_unknown_format(factory, judged, tmp_path):
    with pytest.raises(StoreError, match=r"fmt: expected one of csv, parquet .*, got 'xlsx'"), factory.begin() as s:
        store.export_judgements_table(s, actor="rita", project_id=judged, path=tmp_path / "j.xlsx")


def test_csv_quotes_line_breaks_and_escapes_formulas_after_them():
    text = store.judgements_csv([{"reason": "x\r=1+1", "other": "a\n+cmd", "plain": "=2"}])
    assert text == 'reason,other,plain\r\n"x\r\'=1+1","a\n\'+cmd",\'=2\r\n'
    back = pd.read_csv(io.StringIO(text))
    assert back.to_dict("records") == [{"reason": "x\r'=1+1", "other": "a\n'+cmd", "plain": "'=2"}]


def test_csv_writes_whole_ratings_without_a_decimal_point():
    rows = [
        {"consistency_a": 4, "persona_used_a": None, "seconds": 12.5},
        {"consistency_a": None, "persona_used_a": -1, "seconds": 3.0},
    ]
    assert store.judgements_csv(rows) == "consistency_a,persona_used_a,seconds\r\n4,,12.5\r\n,-1,3.0\r\n"


def test_record_export_audits_and_needs_a_researcher(factory, judged):
    from db.errors import PermissionDeniedError

    with factory.begin() as s:
        store.record_export(s, actor="rita", project_id=judged, kind="preferences", n=1, destination="download")
        audit = store.list_audit(s, actor="admin", limit=1)[0]
    assert (audit["actor"], audit["action"], audit["target"]) == ("rita", "export_preferences", f"project:{judged}")
    assert audit["details"] == {"n": 1, "to": "download"}
    with pytest.raises(PermissionDeniedError), factory.begin() as s:
        store.record_export(s, actor="alice", project_id=judged, kind="preferences", n=1, destination="download")
    with pytest.raises(StoreError, match=r"kind: expected one of preferences, judgements, got 'x'"):
        with factory.begin() as s:
            store.record_export(s, actor="rita", project_id=judged, kind="x", n=1, destination="download")

"""The Inspector's tables (pal_core/analysis/inspection.py): rows with missing fields, score bars, and selection
accuracy by the `selection` metric's rule."""

import json

import pandas as pd
import pytest

from pal_core.analysis import inspection

ROWS = [
    {
        "id": "a",
        "persona": ["p1", "p2"],
        "response": "r",
        "scores": [0.5, 0.3, 0.2],
        "selected_index": 0,
        "gold_label": [0],
    },
    {
        "id": "b",
        "persona": ["p1", "p2"],
        "response": "r",
        "scores": [0.1, 0.2, 0.7],
        "selected_index": -1,
        "gold_label": [-1],
    },
    {"id": "c", "persona": ["p1", "p2"], "response": "r", "selected_index": None, "gold_label": [1, 0]},
    {"id": "noscores-1", "persona": ["I like tea."], "history": ["hi"], "response": "hello"},
]


def test_missing_fields_are_counted_and_named():
    missing = inspection.missing_fields(ROWS)
    assert missing == {"history": 3, "scores": 2, "selected_index": 2, "gold_label": 1, "reference": 4}
    text = inspection.describe_missing({"scores": 2}, 4)
    assert (
        text
        == "This run's outputs lack 'scores' in 2 of 4 rows (the selector's scores (chart)): what needs them is left out."
    )
    assert inspection.describe_missing({}, 4) == ""


def test_score_bars_mark_selected_and_gold_and_survive_a_row_without_scores():
    bars, n = inspection.score_bars(ROWS[1])
    assert n == 3 and list(bars["sentence"]) == ["1. p1", "2. p2", "none"]
    assert list(bars["role"]) == ["other", "other", "selected"]  # selected none, gold none: selected wins
    bars, n = inspection.score_bars(ROWS[0] | {"selected_index": 1})
    assert list(bars["role"]) == ["gold", "selected", "other"]
    bars, n = inspection.score_bars(ROWS[3])
    assert bars.empty and n == 2


def test_selection_follows_the_metric_rule():
    frame = inspection.selection_frame(ROWS)
    assert list(frame["id"]) == ["a", "b", "c"]  # noscores-1 has neither gold nor selection
    assert list(frame["correct"]) == [True, True, False]  # c: none selected, gold [1, 0]
    assert list(frame["selected"]) == ["#1", "none", "none"] and list(frame["gold"]) == ["#1", "none", "#2"]
    assert frame["correct"].mean() == pytest.approx(2 / 3)
    table = inspection.confusion(frame)
    assert list(table.index) == list(table.columns) == ["#1", "#2", "none"]
    assert table.loc["#2", "none"] == 1 and table.to_numpy().sum() == 3
    by_label = inspection.accuracy_by_label(frame)
    assert list(by_label.index) == ["#1", "#2", "none"] and list(by_label["n"]) == [1, 1, 1]
    assert inspection.selection_frame([ROWS[3]]).empty
    assert isinstance(inspection.selection_frame([]), pd.DataFrame)


def test_selection_accuracy_matches_the_selection_metric_on_the_demo_run():
    from pal_core import data
    from pal_core.analysis.metrics import load_metric

    text = (data.demo_runs_dir() / "pal" / "outputs.jsonl").read_text(encoding="utf-8")
    rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    frame = inspection.selection_frame(rows)
    labelled = [r for r in rows if r.get("gold_label")]
    metric = load_metric("selection").compute(
        predictions=[-1 if r["selected_index"] is None else r["selected_index"] for r in labelled],
        references=[r["gold_label"] for r in labelled],
    )
    assert frame["correct"].mean() == pytest.approx(metric["selection_accuracy"], abs=1e-12)

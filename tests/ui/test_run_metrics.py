"""ui.run_metrics: the run numbers the Inspector and Leaderboard show come from the metric modules."""

import pytest

from ui.run_metrics import metrics_with_grounding, reply_lengths, restatement_markup, selection_accuracy

PERSONA = ["i like to go hunting .", "i have two dogs ."]


def test_restatement_markup_escapes_user_text_before_marking():
    body, note = restatement_markup("<b>I</b> like to go hunting & <i>fish</i>", PERSONA)
    assert (
        body
        == "&lt;b&gt;I&lt;/b&gt; <mark>like</mark> to <mark>go</mark> <mark>hunting</mark> &amp; &lt;i&gt;fish&lt;/i&gt;"
    )
    assert note == "Most covered persona sentence: #1, 100% of its content words; the reply restates it."
    body, note = restatement_markup("dogs are great", PERSONA)  # {two, dogs}: 1/2 -> nothing marked
    assert body == "dogs are great"
    assert note.endswith("#2, 50% of its content words; the reply does not restate it (marked from 80%).")


def test_selection_accuracy_and_lengths_use_the_metric_modules():
    rows = [
        {"id": "a", "response": "i like dogs.", "gold_label": [0], "selected_index": 0},
        {"id": "b", "response": "hi", "gold_label": [-1], "selected_index": 1},
        {"id": "c", "response": "ok", "gold_label": None, "selected_index": 1},  # unlabelled: not counted
    ]
    assert selection_accuracy(rows) == pytest.approx(0.5)
    assert selection_accuracy(rows[2:]) is None
    assert reply_lengths({"rows": rows}) == {"a": 4, "b": 1, "c": 1}  # 13a tokens: "." is one


def test_metrics_with_grounding_fills_only_what_is_missing():
    rows = [
        {"id": "a", "persona": PERSONA, "response": "i have two dogs"},
        {"id": "b", "persona": PERSONA, "response": "so so so so"},
    ]
    old = metrics_with_grounding({"metrics": {"c_score": 0.5}, "rows": rows})
    assert old["restatement_rate"] == 0.5 and old["self_repetition"] == 0.5 and old["c_score"] == 0.5
    assert old["grounded_without_restating"] is None
    scored = {"restatement_rate": 0.1, "self_repetition": 0.2, "grounded_without_restating": 0.3}
    assert metrics_with_grounding({"metrics": scored, "rows": rows}) == scored

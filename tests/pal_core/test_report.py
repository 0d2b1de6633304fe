"""pal_core.analysis.report: the examples chosen by rule, the paired numbers, the human table; report_html: one
escaped, self-contained document with three figures."""

import pytest

from pal_core.analysis.report import build_report, pick_examples, unigram_f1
from pal_core.analysis.report_html import render_html, report_figures
from pal_core.errors import PalError


def _row(i: str, response: str, reference: str = "i like tea", selected: int | None = 0, gold=(0,)) -> dict:
    return {
        "id": i,
        "persona": ["I like tea.", "I have two dogs."],
        "history": ["hi"],
        "reference": reference,
        "response": response,
        "selected_index": selected,
        "gold_label": list(gold),
    }


def test_unigram_f1_by_hand():
    # hyp: i like coffee (3), ref: i like tea (3): 2 shared -> p = r = 2/3 -> F1 = 2/3
    assert unigram_f1("I like coffee", "i like tea") == pytest.approx(2 / 3)
    assert unigram_f1("", "i like tea") == 0.0
    assert unigram_f1("dogs", "i like tea") == 0.0


def test_pick_examples_by_rule_and_ties_to_first_id():
    diff = {"t3": 0.5, "t1": -0.2, "t2": 0.5, "t4": 0.1, "t5": 0.0}
    # win: 0.5 (t2 before t3); loss: t1; median of (-0.2, 0, 0.1, 0.5, 0.5) = 0.1 -> t4
    assert pick_examples(diff) == [("largest win", "t2"), ("largest loss", "t1"), ("typical turn", "t4")]
    # one turn is never shown twice
    assert pick_examples({"only": 0.0}) == [("largest win", "only")]


def _runs():
    pal = [_row("a", "i like tea a lot"), _row("b", "dogs are fun"), _row("c", "i like tea", selected=-1)]
    sft = [_row("a", "hello", selected=None), _row("b", "i like tea"), _row("c", "i like tea", selected=1)]
    return {
        "pal": {"config": {}, "metrics": {"c_score": 0.9, "bleu_1": 20.0}, "rows": pal},
        "sft": {"config": {}, "metrics": {"c_score": 0.7, "bleu_1": 21.0}, "rows": sft},
    }


def test_build_report_numbers():
    outcomes = [
        {"system_a": "pal", "system_b": "sft", "preference": "A", "n": 3},
        {"system_a": "pal", "system_b": "sft", "preference": "B", "n": 1},
    ]
    report = build_report(_runs(), system="pal", baseline="sft", outcomes=outcomes)
    assert report["n_turns"] == 3
    assert report["measure"]["key"] == "unigram_f1"
    # per-turn F1: a: pal 6/7... compute: hyp "i like tea a lot" (5) vs ref (3): 3 shared -> p 3/5, r 1 -> 0.75
    # sft "hello" -> 0; b: pal 0 vs sft 1.0; c: both 1.0 -> diffs a +0.75, b -1, c 0
    assert report["paired"]["bootstrap"]["mean_difference"] == pytest.approx((0.75 - 1.0 + 0.0) / 3)
    assert report["paired"]["sign_test"]["a_higher"] == 1 and report["paired"]["sign_test"]["b_higher"] == 1
    assert [(e["label"], e["id"]) for e in report["examples"]] == [
        ("largest win", "a"), ("largest loss", "b"), ("typical turn", "c")
    ]  # fmt: skip
    win = report["examples"][0]
    assert win["system"]["used_sentence"] == "I like tea." and win["baseline"]["used_sentence"] is None
    assert [h["system"] for h in report["human"]] == ["pal", "sft"]  # pal won 3 of 4
    assert report["headline"][0]["system"] == "pal" and report["headline"][0]["c_score"] == 0.9
    assert report["selection"]["pal"]["selection_accuracy"] == pytest.approx(2 / 3)


def test_build_report_refuses_what_it_cannot_compare():
    with pytest.raises(PalError, match="expected 'x' among the runs"):
        build_report(_runs(), system="x", baseline="sft")
    with pytest.raises(PalError, match="two different systems"):
        build_report(_runs(), system="pal", baseline="pal")
    runs = _runs()
    runs["sft"]["rows"] = [_row("z", "hi")]
    with pytest.raises(PalError, match="turns shared by 'pal' and 'sft'"):
        build_report(runs, system="pal", baseline="sft")


def test_html_is_one_escaped_document_with_three_figures():
    runs = _runs()
    runs["<b>x</b>"] = runs.pop("pal")
    for row in runs["<b>x</b>"]["rows"]:
        row["response"] = "<script>alert(1)</script>"
    page = render_html(build_report(runs, system="<b>x</b>", baseline="sft"))
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>x</b>" not in page
    assert page.count('id="fig-') == 3
    assert page.count("plotly.js v") == 1  # the library embedded once, no CDN
    assert "<script src=" not in page  # no external script
    figures = report_figures(build_report(_runs(), system="pal", baseline="sft"))
    assert list(figures) == ["consistency", "restatement", "selection"]
    assert list(figures["consistency"].data[0].y) == [0.9, 0.7]

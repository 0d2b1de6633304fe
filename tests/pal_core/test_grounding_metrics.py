"""The grounding measures (pal_core.analysis.grounding) and their metric modules (restatement, grounded,
self_repetition), pinned to hand-computed values."""

import pytest

from pal_core.analysis import grounding
from pal_core.analysis.metrics import load_metric
from pal_core.analysis.scoring import grounding_metrics
from pal_core.errors import PalError

PERSONA = ["i like to remodel homes .", "i like to go hunting .", "my favorite holiday is halloween ."]


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_EVALUATE_OFFLINE", "1")


def test_words_and_content_words():
    assert grounding.words("I'm from Ohio, 'really' -- and I LOVE it!") == [
        "i'm", "from", "ohio", "really", "and", "i", "love", "it"
    ]  # fmt: skip
    # content words of "i like to remodel homes ." = {like, remodel, homes}: i, to are stop words
    assert grounding.content_words(PERSONA[0]) == {"like", "remodel", "homes"}
    assert grounding.content_words("is it the one ?") == {"one"}


def test_coverage_and_restatement_by_hand():
    # "i remodel homes for a living": remodel, homes of {like, remodel, homes} -> 2/3
    assert grounding.coverage("i remodel homes for a living", PERSONA[0]) == pytest.approx(2 / 3)
    # sentence 3 content words {favorite, holiday, halloween}; the reply has favorite, halloween -> 2/3 < 0.8
    assert grounding.restatement("halloween is my favorite !", PERSONA) == (2, pytest.approx(2 / 3))
    assert not grounding.restates("halloween is my favorite !", PERSONA)
    # {like, go, hunting} all present -> 1.0; ties go to the first sentence
    assert grounding.restatement("yes , i like to go hunting a lot", PERSONA) == (1, 1.0)
    assert grounding.restates("yes , i like to go hunting a lot", PERSONA)
    assert grounding.restatement("hello", PERSONA) == (0, 0.0)
    assert grounding.restatement("hello", []) == (-1, 0.0)
    assert grounding.coverage("anything", "it is what it is") == 0.0  # a sentence without content words


def test_restatement_threshold_is_inclusive():
    # five content words {love, meet, new, people, often}, the reply has four: 4/5 = 0.8 exactly -> restates
    sentence = "i love to meet new people often"
    assert grounding.coverage("i love to meet new people", sentence) == pytest.approx(0.8)
    assert grounding.restates("i love to meet new people", [sentence])
    assert not grounding.restates("i love to meet people", [sentence])  # 3/5


def test_repeated_ngram_by_hand():
    assert grounding.repeated_ngram("i love to meet new people and i love to meet new people") == ("i", "love", "to")
    assert grounding.repeated_ngram("ha ha ha ha") == ("ha", "ha", "ha")  # overlapping occurrences count
    assert grounding.repeated_ngram("i like it . i like it") == ("i", "like", "it")  # punctuation is not a word
    assert grounding.repeated_ngram("i like it and i like dogs") is None
    assert grounding.repeated_ngram("i like it and i like dogs", n=2) == ("i", "like")


def test_restated_segments_join_back_and_mark_the_sentence_words():
    reply = "Yes, I like to go HUNTING!"
    pieces, index, cov = grounding.restated_segments(reply, PERSONA)
    assert "".join(text for text, _ in pieces) == reply
    assert [text for text, marked in pieces if marked] == ["like", "go", "HUNTING"]
    assert (index, cov) == (1, 1.0)
    pieces, index, cov = grounding.restated_segments("halloween is my favorite", PERSONA)
    assert pieces == [("halloween is my favorite", False)]  # 2/3 coverage: not a restatement, nothing marked
    assert (index, cov) == (2, pytest.approx(2 / 3))


def test_restatement_metric_by_hand():
    replies = ["yes , i like to go hunting", "i remodel homes", "hello there", "my favorite holiday is halloween"]
    # best coverages: 1.0, 2/3, 0, 1.0 -> rate 2/4, mean coverage (1 + 2/3 + 0 + 1) / 4
    result = load_metric("restatement").compute(predictions=replies, references=[PERSONA] * 4)
    assert result["restatement_rate"] == pytest.approx(0.5)
    assert result["persona_coverage"] == pytest.approx((2 + 2 / 3) / 4)
    lower = load_metric("restatement").compute(predictions=replies, references=[PERSONA] * 4, threshold=0.6)
    assert lower["restatement_rate"] == pytest.approx(0.75)


def test_self_repetition_metric_by_hand():
    replies = ["i love dogs and i love dogs", "i love dogs and cats", "no no no no", "i said i"]
    result = load_metric("self_repetition").compute(predictions=replies)
    assert result == {"self_repetition": pytest.approx(0.5)}
    assert load_metric("self_repetition").compute(predictions=replies, n=2) == {"self_repetition": pytest.approx(0.5)}
    assert load_metric("self_repetition").compute(predictions=replies, n=1) == {"self_repetition": pytest.approx(0.75)}


def test_grounded_metric_by_hand():
    replies = [
        "hunting is one of my favorite hobbies",  # entailed, coverage 1/3 of sentence 2: grounded
        "i like to go hunting",  # entailed, restates sentence 2
        "i hate halloween",  # contradicted only
        "i fix up old houses",  # entailed by sentence 1, shares no content word: grounded
    ]
    labels = [[0, 1, 0], [0, 1, 0], [0, 0, -1], [1, 0, 0]]
    result = load_metric("grounded").compute(predictions=replies, references=[PERSONA] * 4, labels=labels)
    assert result == {
        "grounded_without_restating": pytest.approx(0.5),
        "entailed_restating": pytest.approx(0.25),
        "entailment_rate": pytest.approx(0.75),
    }


def test_grounded_metric_rejects_bad_labels():
    grounded = load_metric("grounded")
    with pytest.raises(PalError, match=r"grounded: labels\[0\]: expected one label in -1/0/1 per persona sentence"):
        grounded.compute(predictions=["hi"], references=[PERSONA], labels=[[1, 0]])
    with pytest.raises(PalError, match=r"grounded: expected labels, one list per prediction \(1\), got none"):
        grounded.compute(predictions=["hi"], references=[PERSONA])


def test_restatement_metric_rejects_empty_persona():
    with pytest.raises(PalError, match=r"restatement: references\[0\]: expected the reply's persona sentences"):
        load_metric("restatement").compute(predictions=["hi"], references=[[]])


def test_grounding_metrics_of_run_rows():
    rows = [
        {"response": "yes , i like to go hunting", "persona": PERSONA},
        {"response": "i fix up old houses and i fix up old houses", "persona": PERSONA},
    ]
    assert grounding_metrics(rows) == {"restatement_rate": 0.5, "self_repetition": 0.5}
    with_labels = grounding_metrics(rows, [[0, 1, 0], [1, 0, 0]])
    assert with_labels["grounded_without_restating"] == pytest.approx(0.5)

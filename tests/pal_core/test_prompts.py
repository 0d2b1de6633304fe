"""Tests for pal_core/inference/prompts.py: message builders, targets, rendering, and the selection parser (with hypothesis)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers import AutoTokenizer

from pal_core.errors import DataFormatError
from pal_core.inference.prompts import (
    NONE_TEXT,
    _normalize,
    full_persona_messages,
    generate_messages,
    parse_selection,
    persona_free_messages,
    render_prompt,
    select_candidates,
    select_messages,
    select_target,
)

PERSONA = ("i like tea.", "I have two dogs!", "my job is teacher.")
HISTORY = ("hi", "hello, how are you?", "good, do you have pets?")

# Persona sentences that differ after normalization (case/punctuation/spacing), so every index is recoverable.
sentence = st.text(min_size=1, max_size=60).filter(lambda s: s.strip())
ascii_sentence = st.text(
    alphabet=st.characters(codec="ascii", categories=("L", "N", "Zs", "P")), min_size=1, max_size=60
).filter(lambda s: _normalize(s) and any(c.isalpha() for c in s))  # persona sentences are words, never bare numbers
# (a persona like ["2", "0"] makes "2" ambiguous between "sentence 2" and the text "2")


def distinct_personas(element):
    return st.lists(element, min_size=1, max_size=8, unique_by=_normalize)


def test_select_messages_number_persona_and_end_with_partner():
    messages = select_messages(PERSONA, HISTORY)
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "1. i like tea.\n2. I have two dogs!\n3. my job is teacher." in messages[0]["content"]
    user = messages[1]["content"]
    assert "Partner: hi\nYou: hello, how are you?\nPartner: good, do you have pets?" in user
    assert NONE_TEXT in user


def test_history_speakers_alternate_from_the_partner_backwards():
    user = select_messages(PERSONA, ("hello", "hi there"))[1]["content"]
    assert "You: hello\nPartner: hi there" in user


def test_generate_messages_highlight_sentence_or_note_none():
    with_sentence = generate_messages(PERSONA, HISTORY, PERSONA[1])
    assert "Reply in one short utterance using: I have two dogs!" in with_sentence[1]["content"]
    without = generate_messages(PERSONA, HISTORY, None)
    assert "Reply in one short utterance using no persona sentence." in without[1]["content"]
    assert "using:" not in without[1]["content"]
    # Same context as the select prompt: the persona list sits in the system message.
    assert with_sentence[0] == select_messages(PERSONA, HISTORY)[0]


def test_persona_free_messages_hold_no_persona():
    text = "\n".join(m["content"] for m in persona_free_messages(HISTORY))
    assert "Partner: good, do you have pets?" in text
    assert not any(p in text for p in PERSONA)


def test_full_persona_messages_hold_every_sentence_and_history():
    text = "\n".join(m["content"] for m in full_persona_messages(PERSONA, HISTORY))
    assert all(p in text for p in PERSONA) and HISTORY[-1] in text


def test_select_target_uses_first_label_and_none():
    assert select_target(PERSONA, (1, 2)) == "2. I have two dogs!"
    assert select_target(PERSONA, (-1,)) == NONE_TEXT
    assert select_target(PERSONA, None) == NONE_TEXT
    assert select_target(PERSONA, ()) == NONE_TEXT


def test_select_target_out_of_range_raises():
    with pytest.raises(DataFormatError, match=r"select_target: expected persona_label indices in \[0, 3\)"):
        select_target(PERSONA, (3,))


def test_select_candidates_list_every_target_none_last():
    assert select_candidates(PERSONA) == [select_target(PERSONA, (k,)) for k in range(3)] + [NONE_TEXT]


def test_render_prompt_uses_chat_template(tiny_lm):
    tokenizer = AutoTokenizer.from_pretrained(tiny_lm)
    text = render_prompt(tokenizer, [{"role": "user", "content": "hi how are you ?"}])
    assert text == "<s> user : hi how are you ? </s> <s> assistant : "


def test_render_prompt_without_template_is_plain_text(tiny_lm):
    tokenizer = AutoTokenizer.from_pretrained(tiny_lm)
    tokenizer.chat_template = None
    messages = [{"role": "system", "content": "be nice"}, {"role": "user", "content": "hi"}]
    assert render_prompt(tokenizer, messages) == "system: be nice\nuser: hi\nassistant:"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2", 1),
        ("2.", 1),
        ("(2)", 1),
        ("Sentence 2", 1),
        ("persona sentence #3:", 2),
        ("#1", 0),
        ("2. I have two dogs!", 1),
        ("  i HAVE two   dogs ", 1),
        ("9. my job is teacher", 2),  # number out of range: the text decides
        ("9", -1),
        ("I have 2 dogs", 1),  # fuzzy
        ("3. my job is teacher.\nuser : hi", 2),  # trailing generation after the answer
        (NONE_TEXT, -1),
        ("none", -1),
        ("None of them.", -1),
        ("", -1),
        ("   \n ", -1),
        ("bananas are yellow", -1),
    ],
)
def test_parse_selection_examples(text, expected):
    assert parse_selection(text, PERSONA) == expected


def test_parse_selection_prefers_exact_text_over_a_mismatched_leading_digit():
    persona = ("i like tea.", "3 kids keep me busy.", "i run every day.")
    assert parse_selection("3 kids keep me busy", persona) == 1
    assert parse_selection("3", persona) == 2


def test_parse_selection_empty_persona_gives_none():
    assert parse_selection("1. i like tea", ()) == -1


@settings(max_examples=200, deadline=None)
@given(persona=distinct_personas(sentence), data=st.data())
def test_parse_selection_round_trips_select_target(persona, data):
    k = data.draw(st.integers(0, len(persona) - 1))
    assert parse_selection(select_target(persona, (k,)), persona) == k


@settings(max_examples=200, deadline=None)
@given(
    persona=distinct_personas(ascii_sentence),
    data=st.data(),
    pad=st.sampled_from(["", " ", "  ", "\t", " \n"]),
    tail=st.sampled_from(["", ".", "!", "?!", " ..."]),
    upper=st.booleans(),
    with_number=st.booleans(),
)
def test_parse_selection_round_trips_with_noise(persona, data, pad, tail, upper, with_number):
    k = data.draw(st.integers(0, len(persona) - 1))
    text = select_target(persona, (k,)) if with_number else persona[k]
    text = pad + (text.upper() if upper else text) + tail + pad
    assert parse_selection(text, persona) == k


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=300), persona=st.lists(st.text(max_size=40), max_size=6))
def test_parse_selection_never_raises(text, persona):
    assert -1 <= parse_selection(text, persona) < len(persona)

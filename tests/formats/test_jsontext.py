"""The one strict JSON decoder (formats/jsontext.py): what it refuses, the line it names, the error class it raises."""

import json

import pytest

from formats import MAX_DEPTH, FormatError, UnstorableValueError, brief, check_storable, parse_json
from formats.jsontext import decode_json


class OwnError(FormatError):
    """A caller's own error class (as DataFormatError and ImportFormatError are)."""


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_nesting_up_to_the_limit_is_read_and_one_deeper_is_refused():
    assert parse_json(_nested(MAX_DEPTH), "f.json", "a list") == json.loads(_nested(MAX_DEPTH))
    with pytest.raises(FormatError, match=rf"^f\.json:1: expected a list, got JSON nested deeper than {MAX_DEPTH}"):
        parse_json(_nested(MAX_DEPTH + 1), "f.json", "a list")


def test_nesting_too_deep_for_python_names_the_line_where_it_passes_the_limit():
    text = '{\n "a": 1,\n "b": ' + "[" * 100_000 + "]" * 100_000 + "\n}"
    with pytest.raises(FormatError, match=r"^c\.json:3: expected a JSON object, got JSON nested deeper than 32"):
        parse_json(text, "c.json", "a JSON object")


@pytest.mark.parametrize(
    ("text", "line", "got"),
    [
        ('{\n "a": 1,\n "b": NaN\n}', 3, "NaN, which is not a JSON number"),
        ('{\n "a": -Infinity\n}', 2, "-Infinity, which is not a JSON number"),
        ('{\n "a": 1e999\n}', 2, "the number 1e999, which is out of range"),
        ('{\n "a": 1,\n "b": 2,\n "a": 3\n}', 4, "the key 'a' twice in one object"),
        ('{\n "a": "x",\n "b": "y\\u0000"\n}', 3, "text with a NUL character"),
        ('{\n "a": "x",\n "b": "\\udc00"\n}', 3, "a lone surrogate in"),
        ('{\n "a": [1,\n 2,,\n 3]\n}', 3, r"invalid JSON \(Expecting value, column 4\)"),
        ('{"a": 1}\n\n {"b": 2}', 3, "extra data after it at column 9"),
        ('{"a": ' + "9" * 5000 + "}", 1, "Exceeds the limit .* digits"),
        ("", 1, r"invalid JSON \(Expecting value, column 1\)"),
    ],
    ids=["nan", "infinity", "overflow", "repeated_key", "nul", "surrogate", "invalid", "extra", "huge_int", "empty"],
)
def test_each_refusal_names_the_line_of_the_fault(text, line, got):
    with pytest.raises(FormatError, match=rf"^cfg\.json:{line}: expected a JSON object, got {got}"):
        parse_json(text, "cfg.json", "a JSON object")


def test_a_document_starting_on_a_later_line_counts_from_there():
    with pytest.raises(FormatError, match=r"^o\.jsonl:7: expected a JSON object, got NaN"):
        parse_json('{"a": NaN}', "o.jsonl", "a JSON object", line=7)


def test_the_callers_error_class_is_raised():
    with pytest.raises(OwnError, match=r"^x:1: expected a JSON object, got invalid JSON"):
        parse_json("{oops", "x", "a JSON object", error=OwnError)


def test_decode_json_reads_one_value_and_says_where_it_ends():
    text = '[{"a": 1}, {"b": 2}]'
    value, end = decode_json(text, "l.json", "a record", start=1)
    assert (value, text[end:]) == ({"a": 1}, ', {"b": 2}]')


def test_raw_surrogates_in_text_not_read_from_utf8_are_refused():
    with pytest.raises(FormatError, match="lone surrogate"):
        parse_json('{"a": "\ud800"}', "s.json", "a JSON object")


def test_check_storable_refuses_what_the_databases_cannot_store():
    check_storable({"a": ["ok", 1.5, None, _nested_value(MAX_DEPTH - 2)]})  # 32 levels in all
    for bad, message in (
        ("a\0b", "NUL"),
        ("\udfff", "lone surrogate"),
        (float("nan"), "not a JSON number"),
        (_nested_value(MAX_DEPTH + 1), "nested deeper"),
    ):
        with pytest.raises(UnstorableValueError, match=message):
            check_storable({"k": bad})


def _nested_value(depth: int) -> list:
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_brief_is_short_on_huge_values():
    assert len(brief("x" * 10_000)) < 70 and len(brief(_nested_value(1000))) < 70

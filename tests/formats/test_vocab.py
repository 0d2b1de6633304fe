"""The shared vocabularies (formats/vocab.py) are the ones every layer uses."""

import re
from pathlib import Path

import pytest

from db import store
from formats import vocab
from pal_core.analysis import human
from ui import nav

ROOT = Path(__file__).resolve().parents[2]


def test_roles_rank_from_viewer_to_admin():
    assert sorted(vocab.ROLES, key=vocab.ROLE_RANK.get) == ["viewer", "annotator", "researcher", "admin"]
    assert vocab.has_rank("admin", "researcher") and not vocab.has_rank("viewer", "annotator")


@pytest.mark.parametrize("path", sorted(vocab.PAGE_MIN_ROLE))
def test_each_page_asks_for_its_minimum_role_and_the_menu_lists_it(path):
    source = (ROOT / path).read_text(encoding="utf-8")
    assert re.findall(r'require_role\("(\w+)"\)', source) == [vocab.PAGE_MIN_ROLE[path]]
    assert {p[0]: p[2] for p in nav.PAGES}[path] == vocab.PAGE_MIN_ROLE[path]


def test_store_and_analysis_use_the_same_vocabulary():
    assert store.ROLES is vocab.ROLES and store.ROLE_RANK is vocab.ROLE_RANK
    assert store.PREFERENCES is human.PREFERENCES is vocab.PREFERENCES
    assert store.QUESTIONS is vocab.QUESTIONS and store.DEFAULT_QUESTIONS is vocab.DEFAULT_QUESTIONS
    assert human.CRITERIA is vocab.RATINGS and set(vocab.RATINGS) <= set(vocab.QUESTIONS)
    assert list(store.ANSWER_FIELDS) == list(vocab.QUESTIONS)

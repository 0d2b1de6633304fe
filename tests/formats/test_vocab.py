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


def test_every_page_is_in_the_vocabulary():
    assert sorted(vocab.PAGE_MIN_ROLE) == sorted(f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py"))


@pytest.mark.parametrize("path", sorted(vocab.PAGE_MIN_ROLE))
def test_each_page_checks_its_role_from_the_menu_table(path):
    source = (ROOT / path).read_text(encoding="utf-8")
    assert re.findall(r"user = (require_\w+)\((.*?)\)", source) == [("require_page", "__file__")]
    assert nav.find_page(path).minimum == vocab.PAGE_MIN_ROLE[path]


def test_store_and_analysis_use_the_same_vocabulary():
    assert store.ROLES is vocab.ROLES and store.ROLE_RANK is vocab.ROLE_RANK
    assert store.PREFERENCES is human.PREFERENCES is vocab.PREFERENCES
    assert store.QUESTIONS is vocab.QUESTIONS and store.DEFAULT_QUESTIONS is vocab.DEFAULT_QUESTIONS
    assert human.CRITERIA is vocab.RATINGS and set(vocab.RATINGS) <= set(vocab.QUESTIONS)
    assert list(store.ANSWER_FIELDS) == list(vocab.QUESTIONS)

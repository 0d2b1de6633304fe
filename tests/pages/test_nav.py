"""The menu shows a role only the pages it can use (ui.nav.PAGES), and each page's own check agrees with it."""

import pytest
from pagekit import page, plain

from db.users import ROLE_RANK
from ui.nav import PAGES, allowed_pages

EXPECTED = {
    "viewer": ["Inspector", "Leaderboard", "Export and train", "Report"],
    "annotator": ["Annotate", "Leaderboard", "Export and train", "Playground"],
    "researcher": ["Annotate", "Inspector", "Leaderboard", "Agreement", "Export and train", "Playground", "Report"],
    "admin": [p.label for p in PAGES],
}
USERS = {"viewer": "viewer", "annotator": "alice", "researcher": "researcher", "admin": "admin"}


def test_pages_per_role():
    assert {role: [p.label for p in allowed_pages(ROLE_RANK, role)] for role in EXPECTED} == EXPECTED
    assert allowed_pages(ROLE_RANK, None) == []


@pytest.mark.parametrize("role", ["viewer", "annotator"])
def test_home_and_sidebar_list_only_usable_pages(db_url, role):
    at = page("app.py", USERS[role], role).run()
    labels = [link.proto.label for link in at.get("page_link")]
    sidebar = EXPECTED[role]
    home = [f"{p.label}: {p.purpose}" for p in PAGES if p.label in sidebar]
    assert sorted(labels) == sorted(["Home", *sidebar, *home])


@pytest.mark.parametrize(
    ("role", "script"),
    [
        ("annotator", "pages/2_Inspector.py"),
        ("annotator", "pages/4_Agreement.py"),
        ("annotator", "pages/8_Report.py"),
        ("viewer", "pages/4_Agreement.py"),
        ("viewer", "pages/1_Annotate.py"),
    ],
)
def test_a_page_left_out_of_the_menu_refuses_the_role(db_url, role, script):
    at = page(script, USERS[role], role).run()
    assert not at.exception and [t.value for t in at.title] == [] and not at.dataframe
    assert f"{role}" in plain(at.error[0].value)

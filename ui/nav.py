"""The pages a role may use, and the sidebar menu built from them (the built-in menu is hidden by
`client.showSidebarNavigation = false` in .streamlit/config.toml). PAGES is the one source of truth: the menu, the
home page's links and every page's own check (ui.access.require_page) read it, so a page a role cannot use is
never listed."""

from typing import NamedTuple

import streamlit as st


class Page(NamedTuple):
    path: str
    label: str
    minimum: str  # the lowest role that may open it (db.users.ROLE_RANK)
    purpose: str  # what it is for (the home page lists it)
    kept_out: tuple[str, ...] = ()  # roles above the minimum that may still not open it


PAGES = (
    Page("pages/1_Annotate.py", "Annotate", "annotator", "compare two replies, keyboard first"),
    # which system wrote which reply: annotators stay blind
    Page("pages/2_Inspector.py", "Inspector", "viewer", "selector scores, confusion, errors", ("annotator",)),
    Page("pages/3_Leaderboard.py", "Leaderboard", "viewer", "Bradley-Terry with 95% intervals, win rates, metrics"),
    # every annotator's answers per item
    Page("pages/4_Agreement.py", "Agreement", "researcher", "kappa / alpha, gold accuracy, speed, adjudication"),
    Page("pages/5_Export_and_train.py", "Export and train", "viewer", "judgement counts; researchers export, train"),
    Page("pages/6_Playground.py", "Playground", "annotator", "chat with a model given a persona"),
    Page("pages/7_Admin.py", "Admin", "admin", "users, projects, uploads and imports, progress"),
)


def may_open(rank: dict[str, int], role: str | None, page: Page) -> bool:
    """Whether a user with `role` (None: signed out) may use `page`, by the role ranks `rank`."""
    return role is not None and rank[role] >= rank[page.minimum] and role not in page.kept_out


def find_page(path: str) -> Page:
    """The PAGES entry of a page file (`__file__` or "pages/N_Name.py")."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    for page in PAGES:
        if page.path.endswith("/" + name):
            return page
    raise KeyError(f"page: expected one of {[p.path for p in PAGES]}, got {path!r}")


def allowed_pages(rank: dict[str, int], role: str | None) -> list[Page]:
    """PAGES a user with `role` may use (none when signed out)."""
    return [p for p in PAGES if may_open(rank, role, p)]


def sidebar_nav(rank: dict[str, int], role: str | None) -> None:
    """Home plus the allowed pages, in the sidebar."""
    with st.sidebar:
        st.page_link("app.py", label="Home")
        for page in allowed_pages(rank, role):
            st.page_link(page.path, label=page.label)

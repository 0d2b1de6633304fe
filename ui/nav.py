"""The pages a role may use, and the sidebar menu built from them (the built-in menu is hidden by
`client.showSidebarNavigation = false` in .streamlit/config.toml). PAGES is the one source of truth: the menu, the
home page's links and every page's own check (ui.access.require_page) read it, so a page a role cannot use is
never listed."""

from typing import NamedTuple

import streamlit as st

from formats.vocab import PAGE_MIN_ROLE


class Page(NamedTuple):
    path: str
    label: str
    minimum: str  # the lowest role that may open it (formats.vocab.PAGE_MIN_ROLE)
    purpose: str  # what it is for (the home page lists it)
    kept_out: tuple[str, ...] = ()  # roles above the minimum that may still not open it


PAGES = (
    Page(
        "pages/1_Annotate.py", "Annotate", PAGE_MIN_ROLE["pages/1_Annotate.py"], "compare two replies, keyboard first"
    ),
    # which system wrote which reply: annotators stay blind
    Page(
        "pages/2_Inspector.py",
        "Inspector",
        PAGE_MIN_ROLE["pages/2_Inspector.py"],
        "selector scores, confusion, errors",
        ("annotator",),
    ),
    Page(
        "pages/3_Leaderboard.py",
        "Leaderboard",
        PAGE_MIN_ROLE["pages/3_Leaderboard.py"],
        "Bradley-Terry with 95% intervals, win rates, metrics",
    ),
    # every annotator's answers per item
    Page(
        "pages/4_Agreement.py",
        "Agreement",
        PAGE_MIN_ROLE["pages/4_Agreement.py"],
        "kappa / alpha, gold accuracy, speed, adjudication",
    ),
    Page(
        "pages/5_Export_and_train.py",
        "Export and train",
        PAGE_MIN_ROLE["pages/5_Export_and_train.py"],
        "judgement counts; researchers export, train",
    ),
    Page(
        "pages/6_Playground.py",
        "Playground",
        PAGE_MIN_ROLE["pages/6_Playground.py"],
        "chat with a model given a persona",
    ),
    Page(
        "pages/7_Admin.py",
        "Admin",
        PAGE_MIN_ROLE["pages/7_Admin.py"],
        "users, projects, uploads and imports, progress",
    ),
    # replies side by side with their systems' names: annotators stay blind
    Page(
        "pages/8_Report.py",
        "Report",
        PAGE_MIN_ROLE["pages/8_Report.py"],
        "a system against a baseline, as a story",
        ("annotator",),
    ),
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

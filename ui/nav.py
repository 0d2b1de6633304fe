"""The sidebar menu: the pages a role may open, as `st.page_link`s (the built-in menu is hidden by
`client.showSidebarNavigation = false` in .streamlit/config.toml, so a page a role cannot open is not listed)."""

import streamlit as st

from formats.vocab import PAGE_MIN_ROLE

# path, label, lowest role (formats.vocab.PAGE_MIN_ROLE), what it is for (the home page repeats the last column)
PAGES = tuple(
    (path, label, PAGE_MIN_ROLE[path], purpose)
    for path, label, purpose in (
        ("pages/1_Annotate.py", "Annotate", "compare two replies, keyboard first"),
        ("pages/2_Inspector.py", "Inspector", "selector scores, confusion, errors"),
        ("pages/3_Leaderboard.py", "Leaderboard", "Bradley-Terry with 95% intervals, win rates, metrics"),
        ("pages/4_Agreement.py", "Agreement", "kappa / alpha, gold accuracy, speed, adjudication"),
        ("pages/5_Export_and_train.py", "Export and train", "aggregates; researchers export and train"),
        ("pages/6_Playground.py", "Playground", "chat with a model given a persona"),
        ("pages/7_Admin.py", "Admin", "users, projects, uploads and imports, progress"),
        ("pages/8_Report.py", "Report", "one system against a baseline, as a story; HTML download"),
    )
)


def allowed_pages(rank: dict[str, int], role: str | None) -> list[tuple[str, str, str, str]]:
    """PAGES a user with `role` may open (none when signed out), by the role ranks `rank`."""
    if role is None:
        return []
    return [p for p in PAGES if rank[role] >= rank[p[2]]]


def sidebar_nav(rank: dict[str, int], role: str | None) -> None:
    """Home plus the allowed pages, in the sidebar."""
    with st.sidebar:
        st.page_link("app.py", label="Home")
        for path, label, _, _ in allowed_pages(rank, role):
            st.page_link(path, label=label)

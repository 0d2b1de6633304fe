"""Who may see what on a page: the page check every page calls first (its role rules come from ui.nav.PAGES) and
the blindness rule for per-system results (db.summaries.may_see_system_aggregates)."""

import streamlit as st

from db import store
from db.users import ROLE_RANK
from ui.auth import require_role
from ui.nav import find_page, may_open
from ui.render import md
from ui.resources import read_only

BLIND = (
    "You still have items to judge in this project, so results per system stay hidden until you have judged them "
    "all (blind annotation: knowing which system wins would tell you who wrote reply A or B)."
)


def require_page(path: str) -> dict:
    """The signed-in user if their role may use the page at `path` (ui.nav.PAGES); otherwise a login form or an
    error, then st.stop()."""
    page = find_page(path)
    user = require_role(page.minimum)
    if not may_open(ROLE_RANK, user["role"], page):
        st.error(md(f"The {page.label} page is not open to the {user['role']} role."))
        st.stop()
    return user


def may_see_results(user: dict, project: dict) -> bool:
    """Whether `user` may see the project's per-system results; when not, says why (BLIND)."""
    with read_only() as session:
        allowed = store.may_see_system_aggregates(session, actor=user["name"], project_id=project["id"])
    if not allowed:
        st.info(BLIND)
    return allowed

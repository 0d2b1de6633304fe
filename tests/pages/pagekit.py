"""AppTest helpers for the page tests: open a page with a user signed in, and an injection-test project."""

import json
import os
import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from db import store
from db.session import make_session_factory
from ui.auth import AUTH_KEY

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted((ROOT / "pages").glob("*.py"))
TIMEOUT = 60  # seconds per script run: the first run imports pandas/plotly/torch on a busy 2-core machine


def page(name: str, user: str | None = "admin", role: str = "admin") -> AppTest:
    """An AppTest of pages/<name> (or app.py) with `user` (whose role in the database is `role`) signed in: a login
    session started in the store at PAL_DB_URL, its token under the documented session key."""
    # The pages run under app.py as the entry point, as in `streamlit run app.py`: st.page_link resolves page paths
    # against the entry point's folder.
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    if name != "app.py":
        at.switch_page(name)
    if user is not None:  # a real login session in the store, as the login form makes (no password needed here)
        factory = make_session_factory(os.environ["PAL_DB_URL"])
        with factory.begin() as session:
            started = store.start_session(session, name=user)
        factory.kw["bind"].dispose()
        assert started["role"] == role, f"page(): expected {user!r} to have role {role!r}, got {started['role']!r}"
        at.session_state[AUTH_KEY] = started["token"]
    return at


def plain(markdown: str) -> str:
    """Text as shown from Markdown our pages escaped with ui.render.md (backslash escapes removed)."""
    return re.sub(r"\\(.)", r"\1", markdown)


XSS = "<img src=x onerror=alert(1)> **bold** <script>alert(2)</script>"
# The payloads, put in every user-supplied name: Markdown bold and a javascript: link, and an HTML link.
XSS_ID = "**x** [l](javascript:alert(3))"
XSS_SYSTEM = "<a href='javascript:alert(4)'>sys</a> **b**"
XSS_PROJECT = "Injection [check](javascript:alert(5)) **p**"


def add_xss_project(url: str, folder: Path, long_reply: str | None = None, per_item: int = 1) -> int:
    """Two systems answering one dialogue, one reply carrying HTML/Markdown; a project comparing them (admin).
    The dialogue id, one system's name and the project's name carry Markdown/HTML payloads too. `long_reply`
    replaces the plain system's reply."""
    base = {
        "id": XSS_ID,
        "persona": ["I like **tea**.", "<b>I have dogs</b>"],
        "history": ["hello <i>there</i>"],
        "reference": "hi",
        "gold_label": [0],
        "selected_index": 0,
        "selected_sentence": "I like **tea**.",
        "scores": [0.7, 0.2, 0.1],
        "contradiction": [0.9, 0.1],
    }
    factory = make_session_factory(url)
    with factory.begin() as session:
        for name, text in ((XSS_SYSTEM, XSS), ("plain_system", long_reply or "I like tea and dogs.")):
            path = folder / f"{'xss' if name == XSS_SYSTEM else name}.jsonl"
            path.write_text(json.dumps({**base, "response": text}) + "\n", encoding="utf-8")
            store.import_responses_jsonl(session, actor="admin", path=path, system_name=name)
        project = store.create_project(
            session,
            actor="admin",
            name=XSS_PROJECT,
            system_names=[XSS_SYSTEM, "plain_system"],
            annotators_per_item=per_item,
        )
    factory.kw["bind"].dispose()
    return project["id"]

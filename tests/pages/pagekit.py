"""AppTest helpers for the page tests: open a page with a user signed in, and an injection-test project."""

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from db import store
from db.session import make_session_factory
from ui.auth import AUTH_KEY

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted((ROOT / "pages").glob("*.py"))
TIMEOUT = 60  # seconds per script run: the first run imports pandas/plotly/torch on a busy 2-core machine


def page(name: str, user: str | None = "admin", role: str = "admin") -> AppTest:
    """An AppTest of pages/<name> (or app.py) with `user` signed in through the documented session key."""
    at = AppTest.from_file(str(ROOT / name), default_timeout=TIMEOUT)
    if user is not None:
        at.session_state[AUTH_KEY] = {"name": user, "role": role}
    return at


XSS = "<img src=x onerror=alert(1)> **bold** <script>alert(2)</script>"
XSS_PROJECT = "Injection check"


def add_xss_project(url: str, folder: Path) -> int:
    """Two systems answering one dialogue, one reply carrying HTML/Markdown; a project comparing them (admin)."""
    base = {
        "id": "xss-1",
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
        for name, text in (("xss_system", XSS), ("plain_system", "I like tea and dogs.")):
            path = folder / f"{name}.jsonl"
            path.write_text(json.dumps({**base, "response": text}) + "\n", encoding="utf-8")
            store.import_responses_jsonl(session, actor="admin", path=path, system_name=name)
        project = store.create_project(
            session, actor="admin", name=XSS_PROJECT, system_names=["xss_system", "plain_system"]
        )
    factory.kw["bind"].dispose()
    return project["id"]

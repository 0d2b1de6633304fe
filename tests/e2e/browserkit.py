"""What the browser tests share: the seeded app's constants, the seeding, the sign-in and Annotate helpers, and the
DOM watchers. The `server` and `browser` fixtures are in conftest.py; each test module gets its own server."""

import json
import re
import shutil
from pathlib import Path

import pytest  # noqa: F401

from db import store
from db.session import make_session_factory, upgrade_db
from pal_core import data

playwright_api = pytest.importorskip("playwright.sync_api")
ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS_ENV = "PAL_SCREENSHOTS"  # where test_screenshots_of_every_page writes; unset: a temporary folder
XSS = "<img src=x onerror=alert(1)> **bold**"
PAGES = {
    "Annotate": "Annotate: compare",
    "Inspector": "Persona selection inspector",
    "Leaderboard": "Leaderboard",
    "Agreement": "Agreement & review",
    "Export_and_train": "Export & train",
    "Playground": "Playground",
    "Admin": "Admin",
    "Report": "Report",
}
READY = {
    "Annotate": "Undo last",
    "Inspector": "Where selection was wrong",
    "Leaderboard": "Length bias",
    "Agreement": "Disagreements to review",
    "Export_and_train": "Train with DPO",
    "Playground": "Load model",
    "Admin": "New user",
    "Report": "Baseline",
}
N_SUBMITS = 20  # judgements timed for the submit -> next item median
TIMEOUT_MS = 60_000  # first loads import pandas/plotly/torch on a shared 2-core machine


XSS_ID = "**x** [l](javascript:alert(3))"
XSS_SYSTEM = "<a href='javascript:alert(4)'>sys</a> **b**"
XSS_PROJECT = "Injection [check](javascript:alert(5)) **p**"


def _seed(url: str, folder: Path) -> None:
    """Demo data plus a one-item project whose first reply carries HTML and Markdown, as do its dialogue id, a
    system's name and the project's name; two extra annotators disagree on it (so it reaches the review queue)."""
    upgrade_db(url)
    factory = make_session_factory(url)
    with factory.begin() as session:
        store.seed_demo(session, runs_dir=data.demo_runs_dir())
        base = {"id": XSS_ID, "persona": ["I like tea."], "history": ["hello"], "reference": "hi"}
        for name, text in ((XSS_SYSTEM, XSS), ("plain_system", "I like tea.")):
            path = folder / ("xss.jsonl" if name == XSS_SYSTEM else f"{name}.jsonl")
            path.write_text(json.dumps({**base, "response": text}) + "\n")
            store.import_responses_jsonl(session, actor=None, path=path, system_name=name)
        project = store.create_project(
            session, actor="admin", name=XSS_PROJECT, system_names=[XSS_SYSTEM, "plain_system"], annotators_per_item=3
        )
        for name, preference in (("carol", "A"), ("dave", "B")):
            store.create_user(session, actor=None, name=name, password="annotator-demo", role="annotator")
            item = store.next_item(session, actor=name, project_id=project["id"])
            store.record_judgement(session, actor=name, item_id=item["item_id"], preference=preference)
    factory.kw["bind"].dispose()


def _login(browser, base: str, name: str, password: str):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(base)
    page.get_by_role("textbox", name="Username").fill(name)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    playwright_api.expect(page.get_by_text(f"Signed in as {name} (").first).to_be_visible()
    return page


def _item_caption(page):
    return page.get_by_test_id("stCaptionContainer").filter(has_text="Item ").first


def _open_annotate(browser, base: str, name: str):
    """Log in as the demo annotator `name` and open Annotate by its link (a reload would start a new, logged-out
    session); once the panel is drawn, returns the page, the item caption and the caption's text."""
    page = _login(browser, base, name, "annotator-demo")
    page.get_by_role("link", name="Annotate", exact=True).click()
    caption = _item_caption(page)
    playwright_api.expect(page.get_by_role("button", name=re.compile("^Undo last"))).to_be_visible()
    return page, caption, caption.inner_text()


WATCH = """old => {
  window.__t0 = null; window.__t1 = null;
  document.addEventListener('keydown', e => { if (e.key === 'Enter' && window.__t0 === null)
    window.__t0 = performance.now(); }, {capture: true, once: true});
  const obs = new MutationObserver(() => {
    const el = [...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
      .find(e => e.textContent.startsWith('Item '));
    if (el && el.textContent !== old && window.__t0 !== null) { window.__t1 = performance.now(); obs.disconnect(); }
  });
  obs.observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


IDLE = "document.querySelectorAll('[data-stale=\"true\"]').length === 0"  # no element awaits a rerun


def _alice_current(db_url: str) -> list[tuple[int, str]]:
    with make_session_factory(db_url).begin() as session:
        rows = store.judgements_frame(session, actor="admin", project_id=1)
    return [(r["item_id"], r["preference"]) for r in rows if r["user"] == "alice"]

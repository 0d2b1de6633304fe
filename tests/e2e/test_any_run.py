"""Any run the importer accepts renders (issue 22 item 8): a run whose outputs carry no `scores` used to break the
Inspector for every role; now it names what is missing, and a run an admin hides leaves the page."""

import json

from browserkit import IDLE, _login, playwright_api

from db import store
from db.session import make_session_factory

ROW = {"id": "noscores-1", "persona": ["I like tea."], "history": ["hi"], "response": "hello"}


def _import_noscores(db_url: str, folder) -> None:
    run = folder / "noscores"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"system": "noscores", "model": "m"}), encoding="utf-8")
    (run / "outputs.jsonl").write_text(json.dumps(ROW) + "\n", encoding="utf-8")
    factory = make_session_factory(db_url)
    with factory.begin() as session:
        store.import_run(session, actor=None, run_dir=run)
    factory.kw["bind"].dispose()


def _open_inspector(browser, base):
    page = _login(browser, base, "viewer", "viewer-demo")
    page.get_by_role("link", name="Inspector", exact=True).click()
    playwright_api.expect(page.get_by_role("heading", name="Persona selection inspector")).to_be_visible()
    playwright_api.expect(page.get_by_role("combobox", name="Run")).to_be_visible()
    return page


def test_run_without_scores_renders_and_a_hidden_run_leaves(server, browser, tmp_path):
    base, db_url = server
    _import_noscores(db_url, tmp_path)
    expect = playwright_api.expect
    page = _open_inspector(browser, base)
    page.get_by_role("combobox", name="Run").click()
    page.get_by_role("option", name="noscores (imported)").click()
    expect(page.get_by_role("combobox", name="Run")).to_have_value("noscores (imported)")
    expect(page.get_by_text("No selector scores for this example")).to_be_visible()
    expect(page.get_by_text("This run's outputs lack")).to_contain_text("lack 'scores' in 1 of 1 rows")
    expect(page.get_by_text("hello", exact=True).first).to_be_visible()  # the reply, highlighted
    page.wait_for_function(IDLE)
    assert page.get_by_test_id("stException").count() == 0
    page.close()
    factory = make_session_factory(db_url)
    with factory.begin() as session:
        store.hide_system(session, actor="admin", name="noscores")
    factory.kw["bind"].dispose()
    page = _open_inspector(browser, base)
    page.get_by_role("combobox", name="Run").click()
    expect(page.get_by_role("option", name="pal (imported)")).to_be_visible()
    assert page.get_by_role("option", name="noscores (imported)").count() == 0
    page.close()

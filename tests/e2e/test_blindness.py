"""Blind annotation in the browser (issue 22 item 1): an annotator with items left sees no per-system result on the
Leaderboard or Export & train, before or after judging (the issue's probe: Tie, rating only reply A), and a viewer
still sees them."""

from browserkit import IDLE, _login, playwright_api

from db import store
from db.session import make_session_factory
from ui.access import BLIND


def _probe_pages(page) -> None:
    """On the Leaderboard and Export & train: the blindness notice and no table, chart, count or filter."""
    expect = playwright_api.expect
    for link, title in (("Leaderboard", "Leaderboard"), ("Export and train", "Export & train")):
        page.get_by_role("link", name=link, exact=True).click()
        expect(page.get_by_role("heading", name=title)).to_be_visible()
        expect(page.get_by_text(BLIND)).to_be_visible()
        page.wait_for_function(IDLE)
        for test_id in ("stDataFrame", "stPlotlyChart", "stMetric", "stCheckbox", "stSlider", "stDownloadButton"):
            assert page.get_by_test_id(test_id).count() == 0, (link, test_id)


def test_annotator_sees_no_system_results_before_or_after_judging(server, browser):
    base, db_url = server
    page = _login(browser, base, "alice", "annotator-demo")
    _probe_pages(page)
    factory = make_session_factory(db_url)
    with factory.begin() as session:  # Tie, rating only reply A: the judgement the issue probed with
        item = store.next_item(session, actor="alice", project_id=1)
        store.record_judgement(session, actor="alice", item_id=item["item_id"], preference="tie", consistency_a=4)
        assert not store.may_see_system_aggregates(session, actor="alice", project_id=1)  # items are still left
    factory.kw["bind"].dispose()
    _probe_pages(page)
    page.close()


def test_viewer_sees_the_results(server, browser):
    base, _ = server
    page = _login(browser, base, "viewer", "viewer-demo")
    page.get_by_role("link", name="Leaderboard", exact=True).click()
    playwright_api.expect(page.get_by_text("Bradley-Terry ranking")).to_be_visible()
    playwright_api.expect(page.get_by_test_id("stDataFrame").first).to_be_visible()
    assert page.get_by_text(BLIND).count() == 0
    page.close()

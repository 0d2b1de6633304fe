"""`pal report` writes one HTML file that opens offline in Chromium (every network request is refused) and draws
its three charts; names from the runs render as text."""

import shutil
import subprocess
import sys

import pytest
from browserkit import ROOT, TIMEOUT_MS, playwright_api

from pal_core.data import demo_runs_dir

pytestmark = pytest.mark.e2e
XSS_NAME = "<img src=x onerror=alert(1)>"


def test_report_opens_offline_and_draws_its_charts(browser, tmp_path):
    runs = tmp_path / "runs"
    system = runs / XSS_NAME  # a run folder whose name is also HTML
    shutil.copytree(demo_runs_dir() / "pal", system)
    shutil.copytree(demo_runs_dir() / "sft", runs / "sft")
    out = tmp_path / "report.html"
    subprocess.run(
        [sys.executable, "-m", "pal_core.cli", "report", str(system), str(runs / "sft"), "--system", XSS_NAME,
         "--baseline", "sft", "--out", str(out)],
        cwd=ROOT, check=True, capture_output=True, text=True,
    )  # fmt: skip
    requests, dialogs = [], []
    page = browser.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
    page.on("request", lambda r: requests.append(r.url))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(out.as_uri())
    for key in ("consistency", "restatement", "selection"):
        playwright_api.expect(page.locator(f"#fig-{key} .main-svg").first).to_be_attached()
    assert page.locator("#fig-selection .bars path").count() > 0  # bars drawn, not just an empty frame
    assert [u for u in requests if not u.startswith("file:")] == []
    assert dialogs == []
    assert page.locator("h1").inner_text() == f"{XSS_NAME} vs sft"  # shown as text
    assert page.locator("img").count() == 0
    assert page.get_by_text("Three turns side by side").is_visible()
    assert page.locator(".example").count() == 3
    page.close()

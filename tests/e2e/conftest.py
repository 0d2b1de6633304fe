"""The browser tests' fixtures: `server` (the real app on a free port with its own seeded SQLite database, one per test
module) and `browser` (Debian Chromium through Playwright)."""

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from browserkit import CHROMIUM, ROOT, TIMEOUT_MS, _seed, playwright_api
from testkit import free_port


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(base URL, DB URL) of `streamlit run serve.py` (the dashboard app.py with its session routes) on a free port with its own SQLite database."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"chromium not found at {CHROMIUM}")
    folder = tmp_path_factory.mktemp("e2e")
    db_url = f"sqlite:///{folder / 'pal.db'}"
    _seed(db_url, folder)
    port = free_port()
    env = {**os.environ, "PAL_DB_URL": db_url}
    log = (folder / "streamlit.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "serve.py",
            "--server.headless=true",
            f"--server.port={port}",
            "--browser.gatherUsageStats=false",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                if response.read() == b"ok":
                    break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.terminate()
                pytest.fail(f"streamlit did not start; log: {(folder / 'streamlit.log').read_text()[-2000:]}")
            time.sleep(0.2)  # polling a server that is starting: nothing to wait on in the browser yet
    yield base, db_url
    process.terminate()
    process.wait(timeout=30)
    log.close()


@pytest.fixture(scope="module")
def browser():
    playwright_api.expect.set_options(timeout=TIMEOUT_MS)
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        yield chromium
        chromium.close()

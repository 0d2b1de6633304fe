"""Every script runs without an exception for an admin on the demo database."""

import pytest
from pagekit import PAGES, ROOT, page


@pytest.mark.parametrize("script", ["app.py", *(f"pages/{p.name}" for p in PAGES)])
def test_page_runs_without_exception(db_url, script):
    assert (ROOT / script).is_file()
    at = page(script).run()
    assert not at.exception
    assert at.title, f"{script} shows no title"

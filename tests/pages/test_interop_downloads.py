"""Export & train page: the open-format downloads (ui/interop.py builds the zips, tests/db/test_interop.py checks
them) are offered to researchers, one button per format."""

from pagekit import page

from ui.interop import LABELS


def test_researcher_gets_one_download_per_open_format(db_url):
    at = page("pages/5_Export_and_train.py", "researcher", "researcher").run()
    assert not at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    assert [label for label in labels if label in LABELS.values()] == list(LABELS.values())

"""Report page: a viewer picks two systems and reads the story; nothing is chosen for them."""

from pagekit import page, plain


def test_report_waits_for_both_choices_then_tells_the_story(db_url):
    at = page("pages/8_Report.py", "viewer", "viewer").run()
    assert not at.exception
    assert at.selectbox(key="report_system").value is None  # nothing pre-chosen
    assert not at.header
    at.selectbox(key="report_system").set_value("pal").run()
    assert not at.header  # still waiting for the baseline
    at.selectbox(key="report_baseline").set_value("sft").run()
    assert not at.exception
    assert [h.value for h in at.header] == [
        "Automatic metrics",
        "Human leaderboard",
        "Three turns side by side",
        "Figures",
    ]
    assert "pal against sft on 40 shared turns" in plain(at.caption[0].value)
    assert len(at.subheader) == 3


def test_report_of_one_system_against_itself_is_refused(db_url):
    at = page("pages/8_Report.py", "viewer", "viewer").run()
    at.selectbox(key="report_system").set_value("pal").run()
    at.selectbox(key="report_baseline").set_value("pal").run()
    assert not at.exception
    assert "two different systems" in plain(at.error[0].value)

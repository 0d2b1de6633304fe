"""Leaderboard page: Bradley-Terry table over the demo systems, win rates, metrics correlation, length view."""

from pagekit import page


def test_leaderboard_renders_every_section(db_url):
    at = page("pages/3_Leaderboard.py", "viewer", "viewer").run()
    assert not at.exception
    bt = at.dataframe[0].value
    assert sorted(bt["system"]) == ["full_persona", "pal", "persona_free"]
    assert (bt["ci_low"] <= bt["strength"]).all() and (bt["strength"] <= bt["ci_high"]).all()
    correlation = at.dataframe[3].value
    assert "avg_length" in set(correlation["metric"])
    assert [h.value for h in at.header] == [
        "Bradley-Terry ranking",
        "Automatic metrics next to human strength",
        "Length bias",
    ]

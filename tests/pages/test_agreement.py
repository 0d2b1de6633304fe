"""Agreement page: agreement tables render; an admin's adjudication empties the demo's disagreement queue."""

from pagekit import page


def test_adjudication_resolves_the_disagreement(db_url):
    at = page("pages/4_Agreement.py").run()
    assert not at.exception
    assert set(at.dataframe[0].value["question"]) >= {"preference", "consistency"}
    assert at.header[-1].value == "Disagreements to review (1)"  # seed_demo makes bob disagree once
    resolve = [b for b in at.button if b.key.startswith("agreement_resolve_") and b.key.endswith("_A")]
    resolve[0].click().run()
    assert at.header[-1].value == "Disagreements to review (0)"


def test_researcher_sees_queue_without_buttons(db_url):
    at = page("pages/4_Agreement.py", "researcher", "researcher").run()
    assert at.header[-1].value == "Disagreements to review (1)"
    assert not [b for b in at.button if b.key.startswith("agreement_resolve_")]
    assert "An admin resolves this item." in [c.value for c in at.caption]


def test_viewer_sees_no_answers(db_url):
    at = page("pages/4_Agreement.py", "viewer", "viewer").run()
    assert not at.exception and not at.dataframe and not at.expander
    assert at.info[0].value.startswith("Agreement statistics and the disagreement queue show each annotator's")

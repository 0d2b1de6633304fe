"""Agreement page: agreement tables render; an admin's adjudication empties the demo's disagreement queue."""

import pytest
from pagekit import XSS_ID, XSS_SYSTEM, add_xss_project, page, plain

from db import store
from db.session import make_session_factory
from pal_core.analysis import agreement


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


@pytest.mark.parametrize(("user", "role"), [("viewer", "viewer"), ("alice", "annotator")])
def test_lower_roles_see_no_answers(db_url, user, role):
    at = page("pages/4_Agreement.py", user, role).run()
    assert not at.exception and not at.dataframe
    assert [e.label for e in at.expander] == ["Change password"]  # the sidebar's; no disagreement items
    assert "needs the 'researcher' role" in plain(at.error[0].value)


def test_each_statistic_gets_a_reading(db_url):
    at = page("pages/4_Agreement.py", "researcher", "researcher").run()
    table = at.dataframe[0].value.set_index("question")
    for question, row in table.iterrows():
        words = [agreement.read_value(row[c]) for c in ("krippendorff_alpha", "fleiss_kappa", "cohen_kappa_mean")]
        if row["n_units"]:
            assert row["reading"].startswith(f"alpha {words[0]}, Fleiss' kappa {words[1]}, Cohen's kappa {words[2]}")
        assert f"{question}: {row['reading']}" in [plain(c.value) for c in at.caption]


def test_fast_annotators_are_flagged_and_single_judge_items_have_no_agreement(db_url):
    with make_session_factory(db_url).begin() as session:
        systems = store.get_project(session, actor="admin", project_id=1)["systems"]
        project = store.create_project(
            session, actor="admin", name="Speed", system_names=systems[:2], annotators_per_item=1, min_seconds=5.0
        )
        item = store.next_item(session, actor="alice", project_id=project["id"])
        store.record_judgement(session, actor="alice", item_id=item["item_id"], preference="A", seconds=1.6)
        item = store.next_item(session, actor="bob", project_id=project["id"])
        store.record_judgement(session, actor="bob", item_id=item["item_id"], preference="B", seconds=30.0)
    at = page("pages/4_Agreement.py", "researcher", "researcher").run()
    at.selectbox(key="agreement_project").set_value(project["id"]).run()
    assert not at.exception
    annotators = at.dataframe[1].value.set_index("user")
    assert bool(annotators.loc["alice", "too_fast"]) and not bool(annotators.loc["bob", "too_fast"])
    assert plain(at.warning[0].value) == "Faster than 5 s per judgement (median): alice."
    agreement = at.dataframe[0].value.set_index("question")
    assert agreement.loc["preference", "n_units"] == 0  # one judge per item: no agreement, not a perfect 1.0
    assert "Undefined (no item answered twice yet)" in plain(" ".join(c.value for c in at.caption))


def test_names_in_the_queue_are_text(db_url, tmp_path):
    project_id = add_xss_project(db_url, tmp_path, per_item=2)
    with make_session_factory(db_url).begin() as session:
        store.create_user(session, actor="admin", name="carol", password="carol-password", role="annotator")
        for user, preference in (("alice", "A"), ("carol", "B")):
            item = store.next_item(session, actor=user, project_id=project_id)
            store.record_judgement(session, actor=user, item_id=item["item_id"], preference=preference)
    at = page("pages/4_Agreement.py", "researcher", "researcher").run()
    at.selectbox(key="agreement_project").set_value(project_id).run()
    (expander,) = [e for e in at.expander if e.label != "Change password"]  # not the sidebar's
    assert plain(expander.label).endswith(f"dialogue {XSS_ID}")  # shown as typed, not as bold text and a link
    assert expander.label != plain(expander.label)  # because its Markdown characters are escaped
    assert any(plain(c.value).endswith(f"({XSS_SYSTEM})") for c in at.caption)

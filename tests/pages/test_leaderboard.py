"""Leaderboard page: Bradley-Terry with a plain-language reading, asked criteria only, correlations only with enough
systems, names as text in plots and captions."""

import json

import pytest
from pagekit import XSS_PROJECT, XSS_SYSTEM, add_xss_project, page, plain

from db import store
from db.session import make_session_factory
from ui.access import BLIND


def test_leaderboard_renders_every_section(db_url):
    at = page("pages/3_Leaderboard.py", "viewer", "viewer").run()
    assert not at.exception
    bt = at.dataframe[0].value
    assert sorted(bt["system"]) == ["full_persona", "pal", "persona_free", "sft"]
    assert (bt["ci_low"] <= bt["strength"]).all() and (bt["strength"] <= bt["ci_high"]).all()
    assert [h.value for h in at.header] == [
        "Bradley-Terry ranking",
        "Automatic metrics next to human strength",
        "Length bias",
    ]
    captions = " ".join(plain(c.value) for c in at.caption)
    assert "distinguishable at 95%" in captions  # the ranking explained in words
    # the demo project asks consistency (not fluency / engagingness): only that criterion gets columns
    assert list(at.dataframe[1].value.columns) == ["system", "consistency", "consistency_n"]
    # four demo systems: a Spearman rho per metric, over those 4
    corr = next(d.value for d in at.dataframe if "spearman_rho" in d.value.columns)
    assert set(corr["n_systems"]) == {4}


def test_leaderboard_shows_no_correlation_below_four_systems(db_url):
    with make_session_factory(db_url).begin() as session:
        project = store.create_project(
            session, actor="admin", name="three systems", system_names=["pal", "persona_free", "full_persona"], seed=0
        )
        for _ in range(6):
            item = store.next_item(session, actor="alice", project_id=project["id"])
            store.record_judgement(session, actor="alice", item_id=item["item_id"], preference="A", consistency_a=4)
    at = page("pages/3_Leaderboard.py", "viewer", "viewer").run()
    at.selectbox(key="leaderboard_project").set_value(project["id"]).run()
    assert not at.exception
    captions = " ".join(plain(c.value) for c in at.caption)
    assert "needs at least 4 systems with both a human strength and the metric; this project has 3" in captions
    assert all("spearman_rho" not in d.value.columns for d in at.dataframe)


def test_system_names_are_text_in_plots(db_url, tmp_path):
    project_id = add_xss_project(db_url, tmp_path)
    with make_session_factory(db_url).begin() as session:
        item = store.next_item(session, actor="alice", project_id=project_id)
        store.record_judgement(session, actor="alice", item_id=item["item_id"], preference="A", consistency_a=4)
    at = page("pages/3_Leaderboard.py", "researcher", "researcher")
    at.run()
    at.selectbox(key="leaderboard_project").set_value(project_id).run()
    assert not at.exception
    assert at.selectbox(key="leaderboard_project").format_func(project_id) == XSS_PROJECT  # a selectbox is text
    specs = [json.dumps(json.loads(c.proto.spec)) for c in at.get("plotly_chart")]
    assert specs and all("<a href" not in spec for spec in specs)
    assert any("&lt;a href=" in spec for spec in specs)  # the name is there, escaped
    assert all("<a href" not in c.value for c in at.caption)  # captions quote names Markdown-escaped
    assert XSS_SYSTEM in set(at.dataframe[0].value["system"])  # tables show the name as typed


def test_spearman_p_values_are_exact_over_four_systems(db_url):
    """Over 4 systems a two-sided p is k/24 for some k >= 2 (|rho| = 1 is 2 of the 24 orderings): never 0."""
    at = page("pages/3_Leaderboard.py", "viewer", "viewer").run()
    corr = next(d.value for d in at.dataframe if "spearman_rho" in d.value.columns)
    for rho, p in zip(corr["spearman_rho"], corr["p_value"], strict=True):
        assert p >= 2 / 24 - 1e-9 and (p * 24) == pytest.approx(round(p * 24), abs=1e-6)
        if abs(rho) == pytest.approx(1.0):
            assert p == pytest.approx(2 / 24, abs=1e-9)
    assert all(r.startswith("rho ") and " over 4 systems" in r for r in corr["reading"])


def test_annotator_with_items_left_sees_no_per_system_results(db_url):
    at = page("pages/3_Leaderboard.py", "alice", "annotator").run()
    assert not at.exception and not at.dataframe and not at.get("plotly_chart")
    assert [i.value for i in at.info] == [BLIND]


def test_a_run_directory_gone_from_disk_is_named_not_fatal(db_url, tmp_path):
    import shutil

    from pal_core import data

    copy = tmp_path / "gone"
    shutil.copytree(data.demo_runs_dir() / "pal", copy)
    with make_session_factory(db_url).begin() as session:
        store.import_run(session, actor="admin", run_dir=copy, system_name="gone")
    shutil.rmtree(copy)
    at = page("pages/3_Leaderboard.py", "viewer", "viewer").run()
    assert not at.exception
    assert "Run directories that cannot be read (metrics and lengths left out): gone." in [
        plain(w.value) for w in at.warning
    ]

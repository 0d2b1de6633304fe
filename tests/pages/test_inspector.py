"""Inspector page: a run's example with scores, its evidence highlighted safely, and the run-level confusion."""

from pagekit import page


def test_inspector_shows_scores_and_confusion(db_url):
    at = page("pages/2_Inspector.py", "viewer", "viewer").run()
    assert not at.exception
    assert at.selectbox(key="inspector_run").value.startswith("pal")
    metrics = {m.label: m.value for m in at.metric}
    # demo-001-0: gold sentence 1 (0-based), the PAL adapter chose none
    assert metrics["Gold label"] == "#2" and metrics["Selected"] == "none"
    assert metrics["Selection accuracy"] == "35.0%"  # the pal demo run's metrics.json says 0.35
    wrong = at.dataframe[-1].value
    assert len(wrong) == 26 and not wrong["correct"].any()  # 40 turns, 14 right


def test_highlight_escapes_before_marking():
    from ui.render import highlight_overlap

    html = highlight_overlap("<img src=x onerror=alert(1)> I keep bees", "I keep three beehives, bees too")
    assert html == "&lt;img src=x onerror=alert(1)&gt; I <mark>keep</mark> <mark>bees</mark>"


def test_confusion_matrix_is_categorical(db_url):  # db_url: the signed-in user lives in a test database
    import json

    at = page("pages/2_Inspector.py", "viewer", "viewer").run()
    (confusion,) = [c for c in at.get("plotly_chart") if "inspector_confusion" in c.proto.id]
    spec = json.loads(confusion.proto.spec)
    layout, (heatmap,) = spec["layout"], spec["data"]
    assert layout["xaxis"]["type"] == layout["yaxis"]["type"] == "category"  # no 0.5-4.5 numeric ticks
    assert heatmap["x"] == heatmap["y"] and heatmap["x"][-1] == "none"  # "none" keeps its own row and column
    assert all(label == "none" or label.startswith("#") for label in heatmap["x"])
    assert heatmap["z"]["shape"] == f"{len(heatmap['y'])}, {len(heatmap['x'])}"  # one cell per label pair: aligned


def test_hidden_run_leaves_the_run_list_even_when_it_is_a_demo_run(db_url):
    from db import store
    from db.session import make_session_factory

    at = page("pages/2_Inspector.py", "viewer", "viewer").run()
    assert "pal (imported)" in at.selectbox(key="inspector_run").options
    with make_session_factory(db_url).begin() as session:
        store.hide_system(session, actor="admin", name="pal")
    at = page("pages/2_Inspector.py", "viewer", "viewer").run()
    assert not at.exception
    assert not [o for o in at.selectbox(key="inspector_run").options if o.startswith("pal ")]


def test_inspector_shows_grounding_of_the_run(db_url):
    at = page("pages/2_Inspector.py", "viewer", "viewer").run()
    metrics = {m.label: m.value for m in at.metric}
    # the pal demo run was scored before these metrics: computed from its 40 outputs, no classifier needed
    assert metrics["Restatement rate"] == "17.5%" and metrics["Self repetition"] == "7.5%"
    assert metrics["Grounded without restating"] == "-"
    assert any(c.value.startswith("Most covered persona sentence: #") for c in at.caption)

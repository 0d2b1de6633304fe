"""Secure defaults of the dashboard: error details stay in the server log, the server listens on 127.0.0.1, typed run
and model paths stay under the allowed roots, cached models are bounded, training needs the researcher role, and
no page can act as the CLI operator (actor=None)."""

import ast
import shutil
import tomllib

import pytest
from pagekit import ROOT, page, plain

from db.errors import PermissionDeniedError
from pal_core.errors import ConfigError
from ui import jobs
from ui.resources import (
    MAX_CACHED_MODELS,
    _cached_language_model,
    allowed_roots,
    confine,
    confine_model,
    find_runs,
    language_model,
)


def test_config_hides_error_details_and_binds_to_localhost(monkeypatch):
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["showErrorDetails"] == "none"
    assert config["server"]["address"] == "127.0.0.1"
    from streamlit import config as st_config

    monkeypatch.chdir(ROOT)  # Streamlit reads ./.streamlit/config.toml of the working directory
    st_config.get_config_options(force_reparse=True)
    try:
        assert st_config.get_option("client.showErrorDetails") == "none"
        assert st_config.get_option("server.address") == "127.0.0.1"
    finally:
        monkeypatch.undo()
        st_config.get_config_options(force_reparse=True)


def test_paths_outside_the_roots_are_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("PAL_ROOTS", raising=False)
    for path in ("/etc", str(tmp_path), "runs/../../.."):
        with pytest.raises(ConfigError, match=r"path: expected a path under .*, got /"):
            confine(path)
    with pytest.raises(ConfigError):
        find_runs("/etc")
    with pytest.raises(ConfigError):
        confine_model("/etc")
    (tmp_path / "inside").mkdir()
    (tmp_path / "link").symlink_to("/etc")
    monkeypatch.setenv("PAL_ROOTS", str(tmp_path))
    assert confine(tmp_path / "inside") == (tmp_path / "inside").resolve()
    with pytest.raises(ConfigError, match="got /etc"):  # a symlink is followed before the check
        confine(tmp_path / "link")
    assert confine_model("") == "" and confine_model("HuggingFaceTB/SmolLM2-135M") == "HuggingFaceTB/SmolLM2-135M"


def test_inspector_refuses_a_folder_outside_the_roots(db_url):
    at = page("pages/2_Inspector.py", "viewer", "viewer").run()
    at.text_input(key="inspector_folder").input("/etc").run()
    assert not at.exception
    assert plain(at.error[0].value).startswith("path: expected a path under ")
    assert all(not option.startswith("/etc") for option in at.selectbox(key="inspector_run").options)


def test_inspector_is_closed_to_annotators(db_url):
    """It lists each system's replies per dialogue, which would tell an annotator the systems behind A and B."""
    at = page("pages/2_Inspector.py", "alice", "annotator").run()
    assert not at.exception and not at.dataframe and not at.get("plotly_chart")
    assert plain(at.error[0].value) == "The Inspector page is not open to the annotator role."


def test_playground_refuses_a_model_outside_the_roots(db_url, tiny_lm, monkeypatch):
    monkeypatch.delenv("PAL_ROOTS", raising=False)
    at = page("pages/6_Playground.py", "alice", "annotator").run()
    at.selectbox(key="playground_choice").select("Another model (local path or cached Hugging Face id)").run()
    at.text_input(key="playground_model").input(str(tiny_lm)).run()
    at.button(key="playground_load").click().run()
    assert not at.exception
    roots = ", ".join(map(str, allowed_roots()))
    assert (
        at.error[0].value
        == f"path: expected a path under {roots} (add folders with PAL_ROOTS), got {tiny_lm.resolve()}"
    )
    assert at.session_state["playground_loaded"] is None


def test_model_cache_holds_at_most_two_models(tiny_lm, tmp_path, monkeypatch):
    monkeypatch.setenv("PAL_ROOTS", str(tmp_path))
    names = []
    for i in range(3):  # three model folders
        shutil.copytree(tiny_lm, tmp_path / f"lm{i}")
        names.append(str(tmp_path / f"lm{i}"))
    _cached_language_model.clear()
    assert MAX_CACHED_MODELS == 2
    first = language_model(names[0])
    assert language_model(f"{names[0]}/.") is first  # cached under the resolved path ...
    language_model(names[1])
    language_model(names[2])
    assert language_model(names[0]) is not first  # ... until two others pushed it out
    monkeypatch.setenv("PAL_ROOTS", "/nonexistent")
    with pytest.raises(ConfigError):  # confined on every call, cached or not
        language_model(names[2])
    _cached_language_model.clear()


def test_start_dpo_job_needs_a_researcher(db_url, tmp_path):
    jobs_dir = tmp_path / "jobs"
    records = [{"prompt": [{"role": "user", "content": "hi"}], "chosen": [], "rejected": []}]
    for actor in ("alice", "viewer"):
        with pytest.raises(PermissionDeniedError, match=rf"'{actor}' has role '\w+'; this needs 'researcher'"):
            jobs.start_dpo_job(records, actor=actor, url=db_url, jobs_dir=jobs_dir, name=f"dpo-{actor}")
    assert not jobs_dir.exists()  # nothing written, nothing started


def test_ui_code_never_passes_actor_none():
    """actor=None is the CLI operator: no page or ui helper may pass it (they pass the signed-in user's name)."""
    files = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "ui").glob("*.py"))]
    found = []
    for file in files:
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.keyword) and node.arg == "actor":
                if isinstance(node.value, ast.Constant) and node.value.value is None:
                    found.append(f"{file.name}:{node.value.lineno}")
    assert found == []


def test_page_downloads_are_audited(db_url):
    from db import store
    from db.session import make_session_factory

    def exports() -> list[tuple]:
        with make_session_factory(db_url)() as s:
            rows = store.list_audit(s, actor="admin")
        return [(r["actor"], r["action"], r["details"]["to"]) for r in rows if r["action"].startswith("export_")]

    at = page("pages/5_Export_and_train.py", "researcher", "researcher").run()
    assert exports() == []  # showing the page exports nothing
    at.get("download_button")[0].click().run()
    at.get("download_button")[1].click().run()
    assert not at.exception
    assert exports() == [
        ("researcher", "export_judgements", "download"),
        ("researcher", "export_preferences", "download"),
    ]


def test_session_cookie_routes_swap_a_one_time_code_for_an_httponly_cookie(monkeypatch):
    from datetime import timedelta

    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from db.models import utc_now
    from ui import session_cookie as sc

    monkeypatch.setitem(sc.MOUNTED, "routes", False)
    client = TestClient(Starlette(routes=sc.routes()), base_url="https://pal.test")
    code = sc.hand_over("tok-1", utc_now() + timedelta(hours=1))
    assert client.post(sc.CLAIM_PATH, content=code).status_code == 403  # no header: a cross-site form
    claimed = client.post(sc.CLAIM_PATH, content=code, headers={sc.HEADER: "1"})
    assert claimed.status_code == 204
    cookie = claimed.headers["set-cookie"].lower()
    assert cookie.startswith(f"{sc.COOKIE}=tok-1;") and "httponly" in cookie and "secure" in cookie
    assert "samesite=strict" in cookie and "max-age=359" in cookie
    assert client.post(sc.CLAIM_PATH, content=code, headers={sc.HEADER: "1"}).status_code == 400  # used once
    late = sc.hand_over("tok-2", utc_now() + timedelta(hours=1))
    monkeypatch.setattr(sc.time, "monotonic", lambda: 1e12)  # past CODE_TTL
    assert client.post(sc.CLAIM_PATH, content=late, headers={sc.HEADER: "1"}).status_code == 400
    cleared = client.post(sc.CLEAR_PATH, headers={sc.HEADER: "1"})
    assert cleared.status_code == 204 and 'pal_session="";' in cleared.headers["set-cookie"]

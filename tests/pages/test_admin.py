"""Admin page: create a user, change a role, build a project from imported systems, see progress."""

import json

import pytest
from pagekit import page, plain

from db import store
from db.session import make_session_factory
from pal_core import data

DEMO_RUN = data.demo_runs_dir() / "pal"


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """The app's working directory (uploads are kept under ./.pal): a temporary one, not the checkout."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def systems(url: str) -> set[str]:
    with make_session_factory(url).begin() as session:
        return {s["name"] for s in store.list_systems(session, actor="admin")}


def upload_run(at, outputs: tuple[str, bytes], system: str, config: bytes | None = None):
    at.file_uploader(key="admin_upload_outputs").set_value((*outputs, "application/octet-stream"))
    if config is not None:
        at.file_uploader(key="admin_upload_config").set_value(("config.json", config, "application/json"))
    at.text_input(key="admin_upload_system").input(system)
    return at.button(key="FormSubmitter:admin_upload_run-Check and import").click().run()


def test_admin_creates_user_and_project(db_url):
    at = page("pages/7_Admin.py").run()
    assert not at.exception
    at.text_input(key="admin_user_name").input("carol")
    at.text_input(key="admin_user_password").input("carol-password")
    at.button(key="FormSubmitter:admin_new_user-Create user").click().run()
    assert "Created carol." in [plain(s.value) for s in at.success]
    at.text_input(key="admin_project_name").input("Two systems")
    at.multiselect(key="admin_project_systems").set_value(["pal", "persona_free"])
    at.number_input(key="admin_project_n_items").set_value(5)
    at.button(key="FormSubmitter:admin_new_project-Create project").click().run()
    assert not at.exception and "Created project Two systems." in [plain(s.value) for s in at.success]
    with make_session_factory(db_url).begin() as session:
        users = {u["name"]: u["role"] for u in store.list_users(session, actor="admin")}
        projects = {p["name"]: p["n_items"] for p in store.list_projects(session, actor="admin")}
    assert users["carol"] == "annotator" and projects["Two systems"] == 5
    assert set(at.dataframe[-1].value["user"]) == {"alice", "bob"}


def test_uploaded_run_is_checked_kept_and_imported(db_url, workdir):
    at = page("pages/7_Admin.py").run()
    outputs = (DEMO_RUN / "outputs.jsonl").read_bytes()
    upload_run(at, ("outputs.jsonl", outputs), "uploaded_pal", config=(DEMO_RUN / "config.json").read_bytes())
    assert not at.exception and not at.error
    assert plain(at.success[0].value) == "Imported outputs.jsonl as a new system."
    assert "uploaded_pal" in systems(db_url)
    (kept,) = (workdir / ".pal" / "uploads").iterdir()  # a run directory the Inspector can read
    assert (kept / "outputs.jsonl").read_bytes() == outputs
    assert json.loads((kept / "config.json").read_text())["system"] == "uploaded_pal"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("junk.jsonl", b"\x89PNG\r\n\x1a\n\x00\xff\xfe binary", r"junk.jsonl:1: expected"),
        (
            "wrong.jsonl",
            json.dumps(
                {"id": "d1", "persona": ["a", "b"], "history": ["hi"], "response": "x", "selected_index": 99}
            ).encode(),
            "wrong.jsonl:1: expected 'selected_index' as an int in -1..1",
        ),
        (
            "scores.jsonl",
            (
                json.dumps({"id": "d1", "persona": ["a", "b"], "history": ["hi"], "response": "x"})
                + "\n"
                + json.dumps({"id": "d2", "persona": ["a", "b"], "history": ["hi"], "response": "y", "scores": [1, 2]})
            ).encode(),
            "scores.jsonl:2: expected 'scores' as 3 numbers",
        ),
        (
            "label.jsonl",
            json.dumps(
                {"id": "d1", "persona": ["a"], "history": ["hi"], "response": "x", "gold_label": [42]}
            ).encode(),
            "label.jsonl:1: expected 'gold_label' as [-1] or distinct persona indices in 0..0",
        ),
        (
            "nan.jsonl",
            b'{"id": "d1", "persona": ["a"], "history": ["hi"], "response": "x", "scores": [NaN, 1]}',
            "nan.jsonl:1:",
        ),
    ],
)
def test_bad_uploaded_run_names_file_and_line_and_writes_nothing(db_url, workdir, name, content, message):
    before = systems(db_url)
    at = page("pages/7_Admin.py").run()
    upload_run(at, (name, content), "bad_system")
    assert not at.exception  # an error message, not a traceback
    assert plain(at.error[0].value).startswith(message), at.error[0].value
    assert systems(db_url) == before
    assert not (workdir / ".pal" / "uploads").exists() or not any((workdir / ".pal" / "uploads").iterdir())


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            b'{\n "system": "s",\n "model": "m",\n "model": "n"\n}',
            "config.json:4: expected a JSON object, got the key",
        ),
        (b'{\n "data": "\\udfff"\n}', "config.json:2: expected a JSON object, got a lone surrogate"),
        (b'{"g": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", "config.json:1: expected a JSON object, got JSON nested"),
    ],
    ids=["duplicate_key", "lone_surrogate", "deep"],
)
def test_bad_uploaded_config_is_refused_on_its_bytes(db_url, workdir, config, message):
    """The page runs `pal import-run`'s config check on the uploaded bytes (issue 22 item 9)."""
    before = systems(db_url)
    at = page("pages/7_Admin.py").run()
    upload_run(at, ("outputs.jsonl", (DEMO_RUN / "outputs.jsonl").read_bytes()), "", config=config)
    assert not at.exception and plain(at.error[0].value).startswith(message), at.error[0].value
    assert systems(db_url) == before and not (workdir / ".pal" / "uploads").exists()


def test_uploaded_config_with_a_bom_is_imported(db_url, workdir):
    at = page("pages/7_Admin.py").run()
    config = b"\xef\xbb\xbf" + (DEMO_RUN / "config.json").read_bytes()
    upload_run(at, ("outputs.jsonl", (DEMO_RUN / "outputs.jsonl").read_bytes()), "bom_pal", config=config)
    assert not at.exception and not at.error and "bom_pal" in systems(db_url)


def test_uploaded_dialogue_file_is_checked_and_kept(db_url, workdir):
    at = page("pages/7_Admin.py").run()
    at.button(key="FormSubmitter:admin_upload_data-Check and keep").click().run()  # nothing chosen: said so
    assert [plain(e.value) for e in at.error] == ["Choose a dialogue file first."] and not at.success
    good = data.demo_examples_path().read_bytes()
    at.file_uploader(key="admin_upload_dialogues").set_value(("examples.jsonl", good, "application/octet-stream"))
    at.button(key="FormSubmitter:admin_upload_data-Check and keep").click().run()
    assert plain(at.success[0].value).startswith("Kept .pal/data/examples.jsonl (")
    assert (workdir / ".pal" / "data" / "examples.jsonl").read_bytes() == good
    at.file_uploader(key="admin_upload_dialogues").set_value(("bad.jsonl", b"\xff\xfe\x00junk", "application/x"))
    at.button(key="FormSubmitter:admin_upload_data-Check and keep").click().run()
    assert not at.exception
    assert plain(at.error[0].value).startswith("bad.jsonl:1: expected")
    assert not (workdir / ".pal" / "data" / "bad.jsonl").exists()


def test_admin_disables_enables_and_sets_a_password(db_url):
    at = page("pages/7_Admin.py").run()
    at.selectbox(key="admin_role_user").set_value("bob").run()
    at.button(key="admin_toggle_disabled").click().run()
    assert not at.exception and "bob is now disabled." in [plain(s.value) for s in at.success]
    with make_session_factory(db_url)() as session:
        assert {u["name"]: u["disabled"] for u in store.list_users(session, actor="admin")}["bob"] is True
    at.button(key="admin_toggle_disabled").click().run()  # the button now says Enable bob
    assert "bob is now enabled." in [plain(s.value) for s in at.success]
    at.text_input(key="admin_password").input("bob-new-password")
    at.button(key="FormSubmitter:admin_password-Set password").click().run()
    assert "Password of bob changed." in [plain(s.value) for s in at.success]
    with make_session_factory(db_url)() as session:
        assert store.authenticate(session, name="bob", password="bob-new-password")["disabled"] is False
    at.text_input(key="admin_password").input("short")
    at.button(key="FormSubmitter:admin_password-Set password").click().run()
    assert plain(at.error[0].value) == "password: expected at least 8 characters, got fewer"


def test_admin_import_of_a_path_outside_the_roots_is_refused(db_url, workdir):
    at = page("pages/7_Admin.py").run()
    at.text_input(key="admin_run_dir").input("/etc").run()
    at.button(key="admin_import").click().run()
    assert not at.exception
    assert plain(at.error[0].value).startswith("path: expected a path under ")
    assert systems(db_url) == {"full_persona", "pal", "persona_free", "sft"}


def test_locked_database_is_retried_then_explained(db_url, monkeypatch):
    """Another process holds SQLite's write lock: the page retries, then says so (it used to show a traceback)."""
    import sqlite3

    from db import session as db_session

    monkeypatch.setattr(db_session, "SQLITE_BUSY_TIMEOUT_MS", 100)  # each try waits 0.1 s instead of 10 s
    at = page("pages/7_Admin.py").run()
    holder = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        at.text_input(key="admin_user_name").input("dora")
        at.text_input(key="admin_user_password").input("dora-password")
        at.button(key="FormSubmitter:admin_new_user-Create user").click().run()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert not at.exception
    assert plain(at.error[0].value) == (
        "database: expected the write lock within 0.1 s, got 'database is locked' (another write is still running); "
        "please try again"
    )
    with make_session_factory(db_url)() as session:
        assert "dora" not in {u["name"] for u in store.list_users(session, actor="admin")}


def test_new_project_form_is_emptied_after_create_and_kept_after_a_refusal(db_url):
    at = page("pages/7_Admin.py").run()
    at.text_input(key="admin_project_name").input("Only one system")
    at.multiselect(key="admin_project_systems").set_value(["pal"])
    at.button(key="FormSubmitter:admin_new_project-Create project").click().run()
    assert not at.exception and at.error  # refused (two systems needed): what was typed stays
    assert at.text_input(key="admin_project_name").value == "Only one system"
    assert at.multiselect(key="admin_project_systems").value == ["pal"]
    at.multiselect(key="admin_project_systems").set_value(["pal", "sft"])
    at.number_input(key="admin_project_n_items").set_value(3)
    at.button(key="FormSubmitter:admin_new_project-Create project").click().run()
    assert not at.exception and "Created project Only one system." in [plain(s.value) for s in at.success]
    assert at.text_input(key="admin_project_name").value == ""
    assert at.multiselect(key="admin_project_systems").value == []
    assert at.number_input(key="admin_project_n_items").value == 0


def test_refused_run_upload_keeps_the_chosen_file(db_url, workdir):
    at = page("pages/7_Admin.py").run()
    outputs = (DEMO_RUN / "outputs.jsonl").read_bytes()
    upload_run(at, ("outputs.jsonl", outputs), "pal")  # the name is taken: refused
    assert plain(at.error[0].value).startswith("system_name: expected a new system name")
    assert at.file_uploader(key="admin_upload_outputs").value.name == "outputs.jsonl"
    at.text_input(key="admin_upload_system").input("pal_again")
    at.button(key="FormSubmitter:admin_upload_run-Check and import").click().run()  # fixed, not chosen again
    assert not at.exception and "pal_again" in systems(db_url)


def test_admin_hides_a_run_and_shows_it_again(db_url):
    at = page("pages/7_Admin.py").run()
    at.selectbox(key="admin_hide_system").set_value("sft").run()
    at.button(key="admin_hide").click().run()
    assert not at.exception and "sft is now hidden." in [plain(s.value) for s in at.success]
    assert "sft" not in systems(db_url)  # off the pages' lists
    (table,) = [d.value.set_index("name") for d in at.dataframe if "hidden" in d.value.columns]
    assert bool(table.loc["sft", "hidden"]) is True
    at.button(key="admin_delete_system").click().run()  # the demo project compares sft: refused
    assert "hide it instead" in plain(at.error[0].value)
    at.button(key="admin_hide").click().run()
    assert "sft is now shown." in [plain(s.value) for s in at.success] and "sft" in systems(db_url)

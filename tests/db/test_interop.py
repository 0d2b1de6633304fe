"""Open formats: Label Studio / Argilla / Hugging Face exports, and Label Studio judgements imported back (round
trip: the same judgements, unanswered answers still NULL)."""

import json
import re

import datasets
import pytest
from dbkit import judge, new_project

from db import interop, store
from db.errors import ImportFormatError, PermissionDeniedError
from db.models import AuditLog, Judgement
from db.session import make_session_factory

ALL_QUESTIONS = ["consistency", "persona_used", "contradiction", "fluency", "engagingness"]
SIDES = ("a", "b")


def _judged_project(factory, name="interop", seed=0) -> int:
    """A project asking every question, with alice's full answers, bob's partial ones (NULLs) and carol's none."""
    project_id = new_project(factory, name, questions=ALL_QUESTIONS, annotators_per_item=3, seed=seed)
    judge(factory, "alice", project_id, "A", consistency_a=5, consistency_b=2, persona_used_a=1, persona_used_b=-1,
          contradiction_a=False, contradiction_b=True, fluency_a=4, fluency_b=3, engagingness_a=1, engagingness_b=5,
          reason='said "tea"\nsecond line', seconds=7.5)  # fmt: skip
    judge(factory, "alice", project_id, "tie", persona_used_b=0)
    judge(factory, "bob", project_id, "B", consistency_b=4, contradiction_a=True, seconds=2.0)
    judge(factory, "bob", project_id, "both_bad")
    judge(factory, "carol", project_id, "A")
    return project_id


def _by_system(rows: list[dict]) -> dict:
    """(user, dialogue) -> the judgement in system terms (independent of which side showed which system)."""
    out = {}
    for r in rows:
        names = {"a": r["system_a"], "b": r["system_b"]}
        answers = {(q, names[s]): r[f"{q}_{s}"] for q in ALL_QUESTIONS for s in SIDES}
        out[(r["user"], r["dialogue_id"])] = (r["winner"], r["reason"], r["seconds"], answers)
    return out


def _frame(factory, project_id: int) -> list[dict]:
    with factory() as s:
        return store.judgements_frame(s, actor="rita", project_id=project_id)


def _export(factory, project_id: int, fmt: str, tmp_path, actor="rita", **kw):
    with factory.begin() as s:
        files = interop.export_project(s, actor=actor, project_id=project_id, fmt=fmt, **kw)
    interop.write_export(files, tmp_path / fmt)
    return tmp_path / fmt


def test_label_studio_round_trip_keeps_judgements_and_nulls(factory, count, tmp_path):
    source = _judged_project(factory)
    folder = _export(factory, source, "label-studio", tmp_path)
    tasks = json.loads((folder / "tasks.json").read_text(encoding="utf-8"))
    assert len(tasks) == 6 and sum(len(t["annotations"]) for t in tasks) == 5
    bob = next(a for t in tasks for a in t["annotations"] if a["completed_by"]["first_name"] == "bob" and a["result"])
    assert {r["from_name"] for r in bob["result"]} in ({"preference"}, {"preference", "consistency_b",
                                                                          "contradiction_a"})  # fmt: skip
    # Another project over the same systems, other side shuffle: the import maps every answer to the right side.
    target = new_project(factory, "interop copy", questions=ALL_QUESTIONS, annotators_per_item=3, seed=7)
    with factory.begin() as s:
        result = interop.import_label_studio(s, actor="admin", project_id=target, path=folder / "tasks.json")
    assert result == {"n_added": 5, "n_unchanged": 0, "n_cancelled": 0}
    before, after = _frame(factory, source), _frame(factory, target)
    assert _by_system(after) == _by_system(before)
    nulls = [
        sum(r[f"{q}_{s}"] is None for r in rows for q in ALL_QUESTIONS for s in SIDES) for rows in (before, after)
    ]
    assert nulls[0] == nulls[1] == 0 + 9 + 8 + 10 + 10  # only the answers given came back
    # Importing the export into its own project changes nothing (every annotation equals the current judgement).
    n_rows = count(Judgement)
    with factory.begin() as s:
        again = interop.import_label_studio(s, actor=None, project_id=source, path=folder / "tasks.json")
    assert again == {"n_added": 0, "n_unchanged": 5, "n_cancelled": 0} and count(Judgement) == n_rows
    with factory() as s:
        assert [a.action for a in s.query(AuditLog).filter(AuditLog.action.like("%interop%"))] == ["export_interop"]


def test_label_studio_import_edit_supersedes_and_cancelled_adds_nothing(factory, count, tmp_path):
    project_id = _judged_project(factory)
    path = _export(factory, project_id, "label-studio", tmp_path) / "tasks.json"
    tasks = json.loads(path.read_text(encoding="utf-8"))
    carol = next(a for t in tasks for a in t["annotations"] if a["completed_by"]["first_name"] == "carol")
    carol["result"][0]["value"]["choices"] = ["tie"]
    alice = next(a for t in tasks for a in t["annotations"] if a["completed_by"]["first_name"] == "alice")
    alice["was_cancelled"] = True
    path.write_text(json.dumps(tasks, indent=2), encoding="utf-8")
    n_rows = count(Judgement)
    with factory.begin() as s:
        result = interop.import_label_studio(s, actor="admin", project_id=project_id, path=path)
    assert result == {"n_added": 1, "n_unchanged": 3, "n_cancelled": 1} and count(Judgement) == n_rows + 1
    assert [r["preference"] for r in _frame(factory, project_id) if r["user"] == "carol"] == ["tie"]


def _bad(tmp_path, tasks_text: str):
    path = tmp_path / "bad.json"
    path.write_text(tasks_text, encoding="utf-8")
    return path


def test_label_studio_import_errors_name_file_line_and_write_nothing(factory, count, tmp_path):
    project_id = _judged_project(factory)
    good = json.loads((_export(factory, project_id, "label-studio", tmp_path) / "tasks.json").read_text())
    judged = next(i for i, t in enumerate(good) if t["annotations"])

    def lines_with(mutate) -> str:
        tasks = json.loads(json.dumps(good))
        mutate(tasks[judged])
        return json.dumps(tasks, indent=1)

    text = lines_with(lambda t: t["annotations"][0]["result"][0]["value"].update(choices=["C"]))
    rid = json.dumps(good[judged]["annotations"][0]["result"][0]["id"])
    line = next(i for i, x in enumerate(text.splitlines()) if rid in x)  # the entry's "{" is the line before
    cases = [
        ('[\n{"data": 1,\n]', "bad.json:3: expected a Label Studio JSON export (a list of tasks), got invalid JSON"),
        ('{"tasks": []}', "bad.json:1: expected a Label Studio JSON export (a list of tasks), got {'tasks': []}"),
        (
            '[{"a": 1, "a": 2}]',
            "bad.json:1: expected a Label Studio JSON export (a list of tasks), got the key 'a' twice",
        ),
        (text, None),
        (
            lines_with(lambda t: t["annotations"][0].update(completed_by={"email": "zed@pal-studio.local"})),
            "expected completed_by naming an annotator of this store",
        ),
        (lines_with(lambda t: t["data"].update(reply_a="something else")), "expected a task whose data"),
        (lines_with(lambda t: t["annotations"][0].update(lead_time=-1)), "expected lead_time as seconds"),
        (lines_with(lambda t: t["annotations"][0].update(result=[])), "expected a 'preference' result"),
    ]
    n_rows = count(Judgement)
    for text_in, message in cases:
        with pytest.raises(ImportFormatError) as e, factory.begin() as s:
            interop.import_label_studio(s, actor="admin", project_id=project_id, path=_bad(tmp_path, text_in))
        if message is None:  # the bad value's own line (inside the annotation's result list)
            assert str(e.value).startswith(f"{tmp_path / 'bad.json'}:{line}: expected result[0].value for ")
        else:
            assert message in str(e.value) and str(e.value).startswith(str(tmp_path / "bad.json") + ":")
    assert count(Judgement) == n_rows
    with pytest.raises(PermissionDeniedError), factory.begin() as s:
        interop.import_label_studio(s, actor="rita", project_id=project_id, path=_bad(tmp_path, "[]"))


def test_exports_need_a_researcher(factory, tmp_path):
    project_id = _judged_project(factory)
    for actor in ("alice", "vic"):
        with pytest.raises(PermissionDeniedError), factory.begin() as s:
            interop.export_project(s, actor=actor, project_id=project_id, fmt="hf")


def test_hf_export_reads_back_with_card(factory, tmp_path):
    project_id = _judged_project(factory)
    seen = []

    def agreement(rows, questions):
        seen.append((len(rows), questions))
        return [{"question": "preference", "krippendorff_alpha": float("nan"), "n_units": 0}]

    folder = _export(factory, project_id, "hf", tmp_path, agreement=agreement)
    assert seen == [(5, ALL_QUESTIONS)]
    before = _frame(factory, project_id)
    on_disk = datasets.load_from_disk(str(folder / "judgements")).to_list()
    from_card = datasets.load_dataset(
        str(folder), "judgements", split="train", cache_dir=str(tmp_path / "cache")
    ).to_list()  # the card's configs
    for rows in (on_disk, from_card):
        assert [{k: r[k] for k in before[0] if k != "created_at"} for r in rows] == [
            {k: r[k] for k in before[0] if k != "created_at"} for r in before
        ]
        assert [r["created_at"] for r in rows] == [r["created_at"].isoformat() for r in before]
    assert len(datasets.load_dataset(str(folder), "items", split="train", cache_dir=str(tmp_path / "cache"))) == 6
    card = (folder / "README.md").read_text(encoding="utf-8")
    assert "| alice | 2 |" in card and "| bob | 2 |" in card and "| carol | 1 |" in card
    assert "| preference | n/a | 0 |" in card and "- judgements: 5" in card


def test_label_studio_shapes_pass_the_sdk(factory, tmp_path):
    interface = pytest.importorskip("label_studio_sdk.label_interface").LabelInterface
    project_id = _judged_project(factory)
    folder = _export(factory, project_id, "label-studio", tmp_path)
    config = (folder / "config.xml").read_text(encoding="utf-8")
    labels = interface(config)
    labels.validate()  # the SDK's schema, unique-name and toName checks (raises on a bad config)
    tasks = json.loads((folder / "tasks.json").read_text(encoding="utf-8"))
    annotations = [a for t in tasks for a in t["annotations"]]
    assert len(annotations) == 5
    for a in annotations:
        assert labels.validate_prediction(a, return_errors=True) == []
    for t in tasks:
        assert all(t["data"].get(obj.value_name) is not None for obj in labels.objects)
    broken = dict(annotations[0], result=[dict(annotations[0]["result"][0], value={"choices": ["C"]})])
    assert labels.validate_prediction(broken, return_errors=True)  # the check can fail


def test_argilla_dataset_loads_with_the_sdk(factory, tmp_path):
    rg = pytest.importorskip("argilla")
    httpx = pytest.importorskip("httpx")
    project_id = _judged_project(factory)
    folder = _export(factory, project_id, "argilla", tmp_path)

    def offline(request):  # no Argilla server: only the login check the client makes on creation is answered
        if request.url.path == "/api/v1/me":
            return httpx.Response(200, json={"id": "00000000-0000-0000-0000-000000000001", "username": "offline",
                                             "role": "owner", "inserted_at": "2025-01-01T00:00:00",
                                             "updated_at": "2025-01-01T00:00:00"})  # fmt: skip
        return httpx.Response(503)

    rg.Argilla(api_url="http://argilla.invalid", api_key="offline", mounts={"all://": httpx.MockTransport(offline)})
    assert rg.Dataset._load_dataset_model(folder / ".argilla" / "dataset.json").name == "interop"  # from_disk's read
    settings = rg.Settings.from_json(folder / ".argilla" / "settings.json")
    questions = {q.name: q for q in settings.questions}
    assert {f.name for f in settings.fields} == {"persona", "history", "reply_a", "reply_b"}
    raw = json.loads((folder / "records.json").read_text(encoding="utf-8"))
    records = [rg.Record.from_dict(r) for r in raw]
    users = json.loads((folder / "users.json").read_text(encoding="utf-8"))
    answers = {}
    for record in records:
        for response in record.responses:
            question = questions[response.question_name]
            if isinstance(question, rg.LabelQuestion):
                assert response.value in question.labels
            elif isinstance(question, rg.RatingQuestion):
                assert response.value in question.values
            answers[(users[str(response.user_id)], record.metadata["item_id"], response.question_name)] = (
                response.value
            )
    expected = {}
    for r in _frame(factory, project_id):
        for name in ("preference", "reason", "consistency_a", "persona_used_a", "persona_used_b", "contradiction_b"):
            value = r[name] or None if name == "reason" else r[name]
            if value is not None:  # unanswered: no response at all
                value = {-1: "none"}.get(value, str(value + 1)) if name.startswith("persona_used") else value
                value = {True: "yes", False: "no"}.get(value, value) if name.startswith("contradiction") else value
                expected[(r["user"], r["item_id"], name)] = value
    assert {k: v for k, v in answers.items() if k[2] in {n for *_, n in expected}} == expected


def test_cli_export_and_import_judgements(db_url, tmp_path, monkeypatch, capsys):
    from pal_core.cli.app import main

    monkeypatch.setenv("PAL_DB_URL", db_url)
    factory = make_session_factory(db_url)
    project_id = _judged_project(factory)
    for fmt in ("label-studio", "argilla", "hf"):
        out = tmp_path / fmt
        assert main(["export", "--project", str(project_id), "--format", fmt, "--out", str(out)]) == 0
    assert "wrote the label-studio export to" in capsys.readouterr().out
    card = (tmp_path / "hf" / "README.md").read_text(encoding="utf-8")
    assert "| preference |" in card and "config_name: preferences" in card  # agreement from pal_core.analysis
    assert len(datasets.load_from_disk(str(tmp_path / "hf" / "preferences"))) >= 1
    tasks = tmp_path / "label-studio" / "tasks.json"
    assert main(["import-judgements", str(tasks), "--project", "interop"]) == 0
    assert "imported 0 judgements from" in capsys.readouterr().out
    tasks.write_text(re.sub(r'"choices": \[\s*"(A|B|tie|both_bad)"', '"choices": ["Z"', tasks.read_text(), count=1))
    assert main(["import-judgements", str(tasks), "--project", "interop"]) == 2
    assert f"error: {tasks}:" in capsys.readouterr().err
    assert main(["import-judgements", str(tasks), "--project", "interop", "--format", "argilla"]) == 2
    assert "error: --format: expected label-studio, got 'argilla'" in capsys.readouterr().err
    # Label Studio's default export names annotators by numeric id: --user ID=NAME maps them.
    assert main(["export", "--project", "interop", "--format", "label-studio", "--out", str(tmp_path / "ids")]) == 0
    ids = {"alice": 11, "bob": 12, "carol": 13}
    tasks = json.loads((tmp_path / "ids" / "tasks.json").read_text(encoding="utf-8"))
    for annotation in (a for t in tasks for a in t["annotations"]):
        annotation["completed_by"] = ids[annotation["completed_by"]["first_name"]]
    by_id = tmp_path / "ids" / "by_id.json"
    by_id.write_text(json.dumps(tasks), encoding="utf-8")
    capsys.readouterr()
    assert main(["import-judgements", str(by_id), "--project", "interop"]) == 2
    assert re.search(r"given a name with --user ID=NAME\), got 1[123]\n", capsys.readouterr().err)
    users = [f"--user={n}={name}" for name, n in ids.items()]
    assert main(["import-judgements", str(by_id), "--project", "interop", *users]) == 0
    out = capsys.readouterr().out
    assert "imported 0 judgements from" in out and "(5 unchanged, 0 cancelled" in out
    factory.kw["bind"].dispose()


def test_download_zip_holds_the_export_files(factory):
    import io
    import zipfile

    from ui.interop import LABELS, export_zip

    project_id = _judged_project(factory)
    names = {}
    for fmt in LABELS:
        with zipfile.ZipFile(io.BytesIO(export_zip(factory, "rita", project_id, fmt, [{"id": "p1"}]))) as archive:
            names[fmt] = set(archive.namelist())
    assert names["label-studio"] == {"tasks.json", "config.xml", "project.json"}
    assert names["argilla"] == {".argilla/settings.json", ".argilla/dataset.json", "records.json", "users.json"}
    assert {"README.md", "judgements.parquet", "items.parquet", "preferences.parquet"} <= names["hf"]
    assert "judgements/dataset_info.json" in names["hf"] and "preferences/state.json" in names["hf"]

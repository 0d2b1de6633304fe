"""The malformed run directories of tests/malformedkit.py against `pal import-run` on SQLite and PostgreSQL: each
exits 2 with `error: <file>:<line>: expected ..., got ...` and leaves every table as it was; `read_responses` (what the
dashboard upload calls with the file's bytes) raises the same message. Edge cases that are valid import on both."""

import gzip
import json
import re

import pytest
from malformedkit import OUT_GOOD, RUN_CASES, _out, write_case
from sqlalchemy import select

from db import store
from db.errors import ImportFormatError
from db.imports import read_responses
from db.models import AuditLog, Dialogue, Response, System
from pal_core.cli.app import main

ERROR = re.compile(r"error: (?P<file>.+?):(?P<line>\d+): expected .+, got .+")
TABLES = (System, Dialogue, Response, AuditLog)


@pytest.mark.parametrize("case", RUN_CASES, ids=str)
def test_malformed_run_exit_2_names_line_and_writes_nothing(case, db_url, count, tmp_path, capsys):
    bad_file = write_case(case, tmp_path / "run")
    before = [count(t) for t in TABLES]
    assert main(["import-run", str(tmp_path / "run"), "--url", db_url]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and (m := ERROR.fullmatch(lines[0])), lines
    assert (m["file"], int(m["line"])) == (str(bad_file), case.line), lines[0]
    assert re.search(case.match, lines[0]), lines[0]
    assert [count(t) for t in TABLES] == before


@pytest.mark.parametrize("case", [c for c in RUN_CASES if c.bad_file == "outputs.jsonl"], ids=str)
def test_upload_bytes_give_the_same_error_as_the_file(case, tmp_path):
    path = write_case(case, tmp_path)
    with pytest.raises(ImportFormatError) as from_path:
        read_responses(path)
    with pytest.raises(ImportFormatError) as from_bytes:
        read_responses(path.read_bytes(), name=str(path))
    assert str(from_bytes.value) == str(from_path.value)
    with pytest.raises(ImportFormatError, match=rf"^upload\.jsonl:{case.line}: expected "):
        read_responses(path.read_bytes(), name="upload.jsonl")


@pytest.mark.parametrize("case", [c for c in RUN_CASES if c.bad_file == "outputs.jsonl"], ids=str)
def test_uploaded_bytes_are_refused_alike_on_both_databases(case, factory, count, tmp_path):
    """What the Admin page's upload does: import_responses_jsonl with the file's bytes and its name."""
    payload = write_case(case, tmp_path).read_bytes()
    before = [count(t) for t in TABLES]
    with pytest.raises(ImportFormatError, match=rf"^upload\.jsonl:{case.line}: expected "), factory.begin() as s:
        store.import_responses_jsonl(s, actor="admin", path=payload, system_name="uploaded", name="upload.jsonl")
    assert [count(t) for t in TABLES] == before


def test_edge_values_import_alike_on_both_databases(factory, tmp_path, capsys, db_url):
    rows = [
        _out(0, id="i" * 255, split="s" * 32, source="s" * 255, response="emoji \U0001f600 and \\u escapes"),
        _out(
            1, persona=[], selected_index=-1, selected_sentence=None, gold_label=[-1], scores=[1.0], contradiction=[]
        ),
        _out(2, selected_index=None, scores=None, contradiction=None, gold_label=None, turn=2**31 - 1, time_s=0),
    ]
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"system": "edge", "model": "m" * 255}), encoding="utf-8")
    (run / "outputs.jsonl").write_bytes(
        gzip.compress(b"\xef\xbb\xbf" + b"\r\n".join(json.dumps(r).encode() for r in rows))
    )
    assert main(["import-run", str(run), "--url", db_url]) == 0
    with factory() as s:
        stored = {
            d.external_id: d for d in s.scalars(select(Dialogue).where(Dialogue.external_id.in_(["i" * 255, "m-1"])))
        }
        texts = sorted(s.scalars(select(Response.text).join(System).where(System.name == "edge")))
    assert stored["i" * 255].split == "s" * 32 and stored["m-1"].persona == []
    assert texts == ["emoji \U0001f600 and \\u escapes", "reply 1", "reply 2"]


def test_gzipped_outputs_import(db_url, tmp_path, capsys):
    run = tmp_path / "run"
    write_case(RUN_CASES[0], run)  # any config.json; outputs replaced below
    (run / "outputs.jsonl").write_bytes(gzip.compress(OUT_GOOD))
    assert main(["import-run", str(run), "--url", db_url]) == 0
    assert "imported system bad_sys: 2 responses" in capsys.readouterr().out


def test_conflicting_dialogue_names_its_line(db_url, count, tmp_path, capsys):
    run = tmp_path / "run"
    write_case(RUN_CASES[0], run)
    (run / "outputs.jsonl").write_bytes(
        OUT_GOOD + json.dumps(_out(2, id="d-0")).encode() + b"\n"
    )  # d-0: other persona
    before = [count(t) for t in TABLES]
    assert main(["import-run", str(run), "--url", db_url]) == 2
    assert capsys.readouterr().err == (
        f"error: {run / 'outputs.jsonl'}:3: expected the persona and history already stored for id 'd-0', "
        "got different ones\n"
    )
    assert [count(t) for t in TABLES] == before

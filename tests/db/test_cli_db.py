"""`pal db upgrade`, `pal user add`, `pal import-run`, `pal export`, `pal demo seed` run end to end via main()."""

import io

import datasets
import pandas as pd
import pytest
from dbkit import write_run

from db import store
from db.session import make_session_factory
from pal_core.cli.app import main


@pytest.fixture
def url(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'data' / 'pal.db'}"
    monkeypatch.setenv("PAL_DB_URL", url)
    return url


def test_db_upgrade_and_user_add(url, monkeypatch, capsys):
    assert main(["db", "upgrade"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("bootstrap-pw\n"))
    assert main(["user", "add", "root", "--role", "admin", "--password_stdin"]) == 0
    assert "added user root (admin)" in capsys.readouterr().out
    with make_session_factory(url)() as s:
        assert store.authenticate(s, name="root", password="bootstrap-pw")["role"] == "admin"
    monkeypatch.setattr("sys.stdin", io.StringIO("bootstrap-pw\n"))
    assert main(["user", "add", "x", "--role", "boss", "--password_stdin", "--url", url]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: role: expected one of admin, ") and err.endswith(", got 'boss'\n")


def test_import_run_and_malformed_run(url, tmp_path, capsys):
    assert main(["import-run", str(write_run(tmp_path / "r1", "one", 3)), "--name", "first"]) == 0
    assert "imported system first: 3 responses, 3 new dialogues" in capsys.readouterr().out
    bad = write_run(tmp_path / "r2", "two", 0, lines=['{"id": "d-0"}'])
    assert main(["import-run", str(bad)]) == 2
    assert "outputs.jsonl:1: expected 'persona' as a list of strings, got nothing" in capsys.readouterr().err


@pytest.fixture
def seeded(url, capsys) -> str:
    assert main(["demo", "seed"]) == 0
    assert "demo ready (project 1" in capsys.readouterr().out
    return url


def test_demo_seed_twice(seeded, capsys):
    assert main(["demo", "seed"]) == 0
    assert "new users none, new systems none" in capsys.readouterr().out


def test_export_jsonl_hf_and_tables(seeded, tmp_path, capsys):
    out = tmp_path / "pairs.jsonl"
    assert main(["export", "--project", "Demo comparison", "--out", str(out)]) == 0
    from pal_core.training.records import load_preferences

    records = load_preferences(out)  # exactly what `pal train dpo` reads
    assert records and all(r["provenance"]["source"] == "human" for r in records)
    assert records[0]["prompt"][-1]["role"] == "user" and records[0]["chosen"][0]["role"] == "assistant"
    assert (
        main(
            [
                "export",
                "--project",
                "1",
                "--out",
                str(tmp_path / "hf"),
                "--format",
                "hf",
                "--keep_ties",
                "--min_agreement",
                "0.5",
            ]
        )
        == 0
    )
    dataset = datasets.load_from_disk(str(tmp_path / "hf" / "preferences"))  # beside judgements/, items/, README.md
    assert {"prompt", "chosen", "rejected", "provenance"} <= set(dataset.column_names)
    assert dataset[0]["provenance"]["agreement"] >= 0.5 and dataset[0]["provenance"]["source"] == "human"
    for fmt in ("csv", "parquet"):
        assert main(["export", "--project", "1", "--out", str(tmp_path / f"j.{fmt}"), "--format", fmt]) == 0
    assert len(pd.read_csv(tmp_path / "j.csv")) == len(pd.read_parquet(tmp_path / "j.parquet")) == 10
    capsys.readouterr()
    assert main(["export", "--project", "nope", "--out", str(out)]) == 2
    assert "error: --project: expected a project id or name (1:Demo comparison), got 'nope'" in capsys.readouterr().err


def test_db_upgrade_never_prints_a_url_password(tmp_path, monkeypatch, capsys, caplog):
    from db.session import safe_url

    monkeypatch.delenv("PAL_DB_URL", raising=False)
    url = "postgresql+psycopg://pal:S3CRET-pw@127.0.0.1:1/pal"
    assert safe_url(url) == "postgresql+psycopg://pal:***@127.0.0.1:1/pal"
    assert safe_url("not a url :S3CRET-pw@") == "not a url :***@"
    assert safe_url(f"sqlite:///{tmp_path / 'x.db'}") == f"sqlite:///{tmp_path / 'x.db'}"
    sqlite = f"sqlite:///{tmp_path / 'ok.db'}"
    assert main(["db", "upgrade", "--url", sqlite]) == 0
    assert capsys.readouterr().out == f"database at head: {sqlite}\n"
    with caplog.at_level("DEBUG"):
        code = main(["db", "upgrade", "--url", url])  # nothing listens on port 1
    out, err = capsys.readouterr()
    assert code != 0 and "S3CRET" not in out + err + caplog.text
    assert "pal:***@127.0.0.1:1/pal" in err


def test_every_export_writes_an_audit_row(seeded, tmp_path, capsys):
    outs = {
        "jsonl": tmp_path / "p.jsonl",
        "hf": tmp_path / "hf",
        "csv": tmp_path / "j.csv",
        "parquet": tmp_path / "j.pq",
    }
    for fmt, out in outs.items():
        assert main(["export", "--project", "1", "--out", str(out), "--format", fmt]) == 0
    with make_session_factory(seeded)() as s:
        audit = store.list_audit(s, actor="admin")
    rows = [r for r in audit if r["action"] in ("export_preferences", "export_judgements")]
    assert [r["actor"] for r in audit if r["action"] == "export_interop"] == ["cli"]  # the hf folder's tables + card
    assert [(r["actor"], r["action"], r["details"]["to"]) for r in reversed(rows)] == [
        ("cli", "export_preferences", str(outs["jsonl"])),
        ("cli", "export_preferences", str(outs["hf"])),
        ("cli", "export_judgements", str(outs["csv"])),
        ("cli", "export_judgements", str(outs["parquet"])),
    ]

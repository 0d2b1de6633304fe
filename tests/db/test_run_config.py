"""The one check of a run's config.json (db.run_files.check_run_config) that `pal import-run` and the dashboard's
upload share (issue 22 item 9): it runs on the uploaded bytes before anything is written and names the uploaded file
with the lines of that file."""

import json

import pytest
from malformedkit import OUT_GOOD

from db.errors import ImportFormatError
from db.models import AuditLog, Dialogue, Response, System
from db.run_files import check_run_config
from pal_core.cli.app import main
from ui.uploads import import_uploaded_run

TABLES = (System, Dialogue, Response, AuditLog)
DEEP = b"[" * 100_000 + b"]" * 100_000
BAD_CONFIGS = {  # name: (config bytes, line the error names, what it says)
    "deep": (b'{\n "system": "s",\n "generation": ' + DEEP + b"\n}", 3, "JSON nested deeper than 32 levels"),
    "lone_surrogate": (b'{\n "system": "s",\n "data": "\\udfff"\n}', 3, "a lone surrogate"),
    "long_system_name": (b'{\n "system": "' + b"n" * 300 + b'"\n}', 2, "'system' as a string of 1-128 characters"),
    "duplicate_key": (b'{\n "system": "s",\n "model": "m",\n "model": "n"\n}', 4, "the key 'model' twice"),
    "nan_on_line_6": (b'{\n "system": "s",\n "a": 1,\n "b": 2,\n "c": 3,\n "wall_time_s": NaN\n}', 6, "NaN"),
    "not_utf8": (b'{\n "system": "s",\n "model": "\xff"\n}', 3, "byte 0xff"),
    "not_an_object": (b"[1, 2]", 1, "a JSON object, got list"),
}


@pytest.mark.parametrize("case", BAD_CONFIGS)
def test_config_bytes_are_refused_with_the_uploaded_name_and_line(case):
    payload, line, message = BAD_CONFIGS[case]
    with pytest.raises(ImportFormatError, match=rf"^my_config\.json:{line}: expected .*{message}"):
        check_run_config(payload, name="my_config.json")


@pytest.mark.parametrize("case", BAD_CONFIGS)
def test_the_cli_and_the_upload_give_the_same_message(case, tmp_path):
    path = tmp_path / "config.json"
    path.write_bytes(BAD_CONFIGS[case][0])
    with pytest.raises(ImportFormatError) as from_path:
        check_run_config(path)
    with pytest.raises(ImportFormatError) as from_bytes:
        check_run_config(path.read_bytes(), name=str(path))
    assert str(from_bytes.value) == str(from_path.value)


def test_a_bom_is_read_like_the_cli_reads_it():
    config, name, model = check_run_config(b'\xef\xbb\xbf{"system": " s ", "model": "m"}', name="c.json")
    assert (config, name, model) == ({"system": " s ", "model": "m"}, "s", "m")


def test_a_given_system_name_wins_and_is_checked_as_a_field():
    assert check_run_config(b'{"system": "s"}', system_name="other")[1] == "other"
    with pytest.raises(ImportFormatError, match=r"^system_name: expected 'system' as a string of 1-128 characters"):
        check_run_config(b'{"system": "s"}', system_name="x" * 300)


@pytest.mark.parametrize("case", BAD_CONFIGS)
def test_upload_refuses_a_bad_config_before_keeping_anything(case, factory, count, tmp_path):
    payload, line, message = BAD_CONFIGS[case]
    before = [count(t) for t in TABLES]
    with (
        pytest.raises(ImportFormatError, match=rf"^my_config\.json:{line}: expected .*{message}"),
        factory.begin() as s,
    ):
        import_uploaded_run(
            s,
            actor="admin",
            outputs_name="outputs.jsonl",
            outputs=OUT_GOOD,
            system_name="",
            config=payload,
            config_name="my_config.json",
            uploads_dir=tmp_path / "uploads",
        )
    assert not (tmp_path / "uploads").exists() and [count(t) for t in TABLES] == before


def test_upload_of_a_long_system_name_is_a_field_error_not_an_os_error(factory, count, tmp_path):
    with pytest.raises(ImportFormatError, match=r"^system_name: expected 'system' as a string of 1-128"):
        with factory.begin() as s:
            import_uploaded_run(
                s,
                actor="admin",
                outputs_name="o.jsonl",
                outputs=OUT_GOOD,
                system_name="n" * 300,
                uploads_dir=tmp_path / "uploads",
            )
    assert not (tmp_path / "uploads").exists()


def test_upload_with_a_bom_config_is_imported_and_kept(factory, tmp_path, db_url, capsys):
    config = b'\xef\xbb\xbf{\n "system": "from_config",\n "model": "m",\n "note": "caf\xc3\xa9"\n}'
    with factory.begin() as s:
        result = import_uploaded_run(
            s,
            actor="admin",
            outputs_name="o.jsonl",
            outputs=OUT_GOOD,
            system_name="",
            config=config,
            uploads_dir=tmp_path / "uploads",
        )
    assert (result["system"], result["n_responses"]) == ("from_config", 2)
    (kept,) = (tmp_path / "uploads").iterdir()
    assert json.loads((kept / "config.json").read_text(encoding="utf-8")) == {
        "system": "from_config",
        "model": "m",
        "note": "café",
    }
    # the kept run directory is what `pal import-run` reads: the same check passes on it
    assert main(["import-run", str(kept), "--name", "again", "--url", db_url]) == 0

"""`pal db upgrade`, `pal user add`, `pal import-run`, `pal export`, `pal import-judgements` and `pal demo seed`: the
annotation store from the shell. The operator running these already holds the database, so they act as the trusted local admin."""

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated

import typer

from pal_core.cli.app import group

EXPORT_FORMATS = ("jsonl", "hf", "label-studio", "argilla", "csv", "parquet")
URL_OPTION = Annotated[str | None, typer.Option("--url", help="SQLAlchemy URL (default: PAL_DB_URL or SQLite file).")]
PASSWORD_STDIN_OPTION = Annotated[bool, typer.Option("--password_stdin", help="Read the password from stdin.")]


def _store_errors(fn: Callable) -> Callable:
    """Show a StoreError as `error: ...` with exit status 2, as pal_core.cli does for PalError."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        from db.errors import StoreError  # sqlalchemy: imported when a command runs, not for --help

        try:
            return fn(*args, **kwargs)
        except StoreError as e:
            print(f"error: {e}", file=sys.stderr)
            raise typer.Exit(code=2) from None

    return wrapper


def _read_password(prompt: str, from_stdin: bool) -> str:
    """One line of stdin (scripts), or a hidden prompt typed twice."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt(prompt, hide_input=True, confirmation_prompt=True)


def _factory(url: str | None, *, upgrade: bool = True):
    from db.session import default_db_url, make_session_factory, upgrade_db

    url = url or default_db_url()
    if upgrade:
        upgrade_db(url)
    return make_session_factory(url)


@_store_errors
def db_upgrade(url: URL_OPTION = None) -> None:
    """Create or upgrade the database schema (alembic upgrade head)."""
    from sqlalchemy.exc import OperationalError

    from db.errors import StoreError
    from db.session import default_db_url, safe_url, upgrade_db

    url = url or default_db_url()
    try:
        upgrade_db(url)
    except OperationalError as e:  # SQLAlchemy's message never holds the URL; this one names it, password hidden
        raise StoreError(f"database: expected a reachable database at {safe_url(url)}, got {e.orig}") from None
    print(f"database at head: {safe_url(url)}")


@_store_errors
def user_add(
    name: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Option("--role", help="admin, researcher, annotator or viewer.")],
    password_stdin: PASSWORD_STDIN_OPTION = False,
    url: URL_OPTION = None,
) -> None:
    """Add a user (the first admin comes from here); the password is asked for with hidden input."""
    from db import store

    password = _read_password("Password", password_stdin)
    with _factory(url).begin() as session:
        user = store.create_user(session, actor=None, name=name, password=password, role=role)
    print(f"added user {user['name']} ({user['role']})")


@_store_errors
def user_passwd(
    name: Annotated[str, typer.Argument(help="User name.")],
    password_stdin: PASSWORD_STDIN_OPTION = False,
    url: URL_OPTION = None,
) -> None:
    """Set a user's password (hidden input); their open dashboard sessions end."""
    from db import store

    password = _read_password("New password", password_stdin)
    with _factory(url).begin() as session:
        store.change_password(session, actor=None, name=name, new_password=password)
    print(f"password changed for {name}")


def _set_disabled(name: str, url: str | None, disabled: bool) -> None:
    from db import store

    with _factory(url).begin() as session:
        store.set_disabled(session, actor=None, name=name, disabled=disabled)
    print(f"{'disabled' if disabled else 'enabled'} user {name}")


@_store_errors
def user_disable(name: Annotated[str, typer.Argument(help="User name.")], url: URL_OPTION = None) -> None:
    """Disable a user: no login, no store call; their open sessions end."""
    _set_disabled(name, url, True)


@_store_errors
def user_enable(name: Annotated[str, typer.Argument(help="User name.")], url: URL_OPTION = None) -> None:
    """Enable a disabled user again (also clears a login lockout)."""
    _set_disabled(name, url, False)


@_store_errors
def import_run(
    run_dir: Annotated[Path, typer.Argument(help="A `pal evaluate` run directory.")],
    name: Annotated[str | None, typer.Option("--name", help="System name (default: config.json 'system').")] = None,
    url: URL_OPTION = None,
) -> None:
    """Import a run directory's responses as a system for comparisons."""
    from db import store

    with _factory(url).begin() as session:
        result = store.import_run(session, actor=None, run_dir=run_dir, system_name=name)
    print(
        f"imported system {result['system']}: {result['n_responses']} responses, "
        f"{result['n_new_dialogues']} new dialogues"
    )


def _project_id(session, project: str) -> int:
    from db import store
    from db.errors import StoreError

    projects = store.list_projects(session, actor=None)
    for p in projects:
        if p["name"] == project or str(p["id"]) == project:
            return p["id"]
    known = ", ".join(f"{p['id']}:{p['name']}" for p in projects) or "none"
    raise StoreError(f"--project: expected a project id or name ({known}), got {project!r}")


@_store_errors
def export(
    project: Annotated[str, typer.Option("--project", help="Project id or name.")],
    out: Annotated[Path, typer.Option("--out", help="Output file (a folder for hf, label-studio, argilla).")],
    fmt: Annotated[
        str, typer.Option("--format", help="jsonl, hf, label-studio, argilla, csv or parquet (docs/interop.md).")
    ] = "jsonl",
    keep_ties: Annotated[bool, typer.Option("--keep_ties", help="Keep tie items (A as chosen).")] = False,
    min_agreement: Annotated[float, typer.Option("--min_agreement", help="Drop items below this agreement.")] = 0.0,
    per_judgement: Annotated[
        bool, typer.Option("--per_judgement", help="One pair per judgement, no majority.")
    ] = False,
    url: URL_OPTION = None,
) -> None:
    """Export human preference pairs (jsonl, the format `pal train dpo` reads), the judgements table, or the items
    and judgements in open formats (hf: datasets folder + Parquet + card, with the pairs; label-studio; argilla)."""
    from db import interop, store
    from db.errors import StoreError

    if fmt not in EXPORT_FORMATS:
        raise StoreError(f"--format: expected one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}")
    with _factory(url, upgrade=False).begin() as session:
        project_id = _project_id(session, project)
        if fmt in ("csv", "parquet"):
            store.export_judgements_table(session, actor=None, project_id=project_id, path=out, fmt=fmt)
            print(f"wrote judgements table to {out}")
            return
        if fmt in ("label-studio", "argilla"):
            written = interop.write_export(
                interop.export_project(session, actor=None, project_id=project_id, fmt=fmt), out
            )
            print(f"wrote the {fmt} export to {out}: {', '.join(str(p.relative_to(out)) for p in written)}")
            return
        rows = store.export_preferences(
            session,
            actor=None,
            project_id=project_id,
            drop_ties=not keep_ties,
            min_agreement=min_agreement,
            majority=not per_judgement,
        )
        from pal_core.training.records import to_preference_records, write_preferences  # imports datasets

        records = to_preference_records(rows)
        if fmt == "hf":
            from pal_core.analysis.agreement import agreement_table

            files = interop.export_project(
                session, actor=None, project_id=project_id, fmt="hf", agreement=agreement_table, preferences=records
            )
    if fmt == "jsonl":
        write_preferences(records, out)
    else:
        interop.write_export(files, out)
    with _factory(url, upgrade=False).begin() as session:  # audited once written
        store.record_export(
            session, actor=None, project_id=project_id, kind="preferences", n=len(records), destination=str(out)
        )
    print(f"wrote {len(records)} preference pairs to {out}")


@_store_errors
def import_judgements(
    file: Annotated[Path, typer.Argument(help="A Label Studio JSON export (a list of tasks).")],
    project: Annotated[str, typer.Option("--project", help="Project id or name.")],
    fmt: Annotated[str, typer.Option("--format", help="label-studio (the only one so far).")] = "label-studio",
    user: Annotated[
        list[str] | None, typer.Option("--user", help="ID=NAME: a Label Studio user id's name here (repeatable).")
    ] = None,
    url: URL_OPTION = None,
) -> None:
    """Import judgements made elsewhere into a project (tasks matched by dialogue and replies; docs/interop.md)."""
    from db import interop
    from db.errors import StoreError

    if fmt != "label-studio":
        raise StoreError(f"--format: expected label-studio, got {fmt!r}")
    id_names = {}
    for pair in user or []:
        ls_id, _, name = pair.partition("=")
        if not ls_id.isdigit() or not name:
            raise StoreError(f"--user: expected ID=NAME (a Label Studio user id and a user name), got {pair!r}")
        id_names[int(ls_id)] = name
    with _factory(url).begin() as session:
        project_id = _project_id(session, project)
        result = interop.import_label_studio(session, actor=None, project_id=project_id, path=file, id_names=id_names)
    print(
        f"imported {result['n_added']} judgements from {file} ({result['n_unchanged']} unchanged, "
        f"{result['n_cancelled']} cancelled annotations skipped)"
    )


@_store_errors
def demo_seed(url: URL_OPTION = None) -> None:
    """Fill the database with the demo users, systems, project and judgements (running it twice changes nothing)."""
    from db import store
    from pal_core.data.loaders import demo_runs_dir

    with _factory(url).begin() as session:
        result = store.seed_demo(session, runs_dir=demo_runs_dir())
    users = ", ".join(f"{n}/{p}" for n, (_, p) in store.DEMO_USERS.items())
    print(
        f"demo ready (project {result['project_id']}, new users {result['users'] or 'none'}, "
        f"new systems {result['systems'] or 'none'}); logins: {users}"
    )


def register(app: typer.Typer, train_app: typer.Typer) -> None:
    """Add this area's commands to the top-level app and the `pal train` group."""
    db_app = group("Annotation database.")
    db_app.command("upgrade")(db_upgrade)
    app.add_typer(db_app, name="db")
    user_app = group("Users of the annotation dashboard.")
    user_app.command("add")(user_add)
    user_app.command("passwd")(user_passwd)
    user_app.command("disable")(user_disable)
    user_app.command("enable")(user_enable)
    app.add_typer(user_app, name="user")
    demo_app = group("Demo data.")
    demo_app.command("seed")(demo_seed)
    app.add_typer(demo_app, name="demo")
    app.command("import-run")(import_run)
    app.command("export")(export)
    app.command("import-judgements")(import_judgements)

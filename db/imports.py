"""Import systems' responses into the store: a `pal evaluate` run directory or a bare responses JSONL
(docs/interfaces.md). The files are read and validated first (db/run_files.py), so a malformed file writes nothing and
both databases accept the same files.
"""

from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from db.errors import ImportFormatError, NotFoundError, StoreError
from db.models import Comparison, Dialogue, Project, Response, System
from db.run_files import MODEL_LENGTH, NAME_LENGTH, check_run_config, read_responses, response_metadata
from db.users import audit, require_role
from formats import OutputRow, UnstorableValueError, brief, check_storable

__all__ = [
    "check_run_config",
    "delete_system",
    "get_system",
    "hide_system",
    "import_checked_run",
    "import_responses_jsonl",
    "import_run",
    "list_systems",
    "read_responses",
    "register_system",
]


def _write_system(
    session: Session,
    *,
    actor: str | None,
    name: str,
    model: str,
    config: dict,
    run_dir: str,
    rows: list[OutputRow],
    source: Path,
) -> dict:
    if session.scalars(select(System.id).where(System.name == name)).first() is not None:
        raise StoreError(f"system_name: expected a new system name, got existing {name!r}")
    ids = [r.id for r in rows]
    existing: dict[str, Dialogue] = {}
    for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
        chunk = ids[start : start + 500]
        existing.update(
            {d.external_id: d for d in session.scalars(select(Dialogue).where(Dialogue.external_id.in_(chunk)))}
        )
    for r in rows:
        old = existing.get(r.id)
        if old is not None and (old.persona != r.persona or old.history != r.history):
            raise ImportFormatError(
                f"{source}:{r.line}: expected the persona and history already stored for id {r.id!r}, "
                "got different ones"
            )
    system = System(name=name, model=model, config=config, run_dir=run_dir)
    session.add(system)
    n_new = 0
    for r in rows:
        dialogue = existing.get(r.id)
        if dialogue is None:
            dialogue = Dialogue(
                external_id=r.id,
                persona=r.persona,
                partner_persona=r.partner_persona or [],
                history=r.history,
                reference=r.reference or "",
                gold_label=r.gold_label,
                source=r.source or str(config.get("data", "")),
                split=r.split or "",
            )
            session.add(dialogue)
            n_new += 1
        session.add(
            Response(
                dialogue=dialogue,
                system=system,
                text=r.response,
                selected_index=r.selected_index,
                selected_sentence=r.selected_sentence,
                scores=r.scores,
                contradiction=r.contradiction,
                meta=response_metadata(r),
            )
        )
    session.flush()
    audit(session, actor, "import_system", name, source=str(source), n_responses=len(rows), n_new_dialogues=n_new)
    return {"system": name, "system_id": system.id, "n_responses": len(rows), "n_new_dialogues": n_new}


def _check_system(name: Any, model: Any, config: Any) -> None:
    if not isinstance(name, str) or not 0 < len(name.strip()) <= NAME_LENGTH:
        raise StoreError(f"name: expected 1-{NAME_LENGTH} characters, got {brief(name)}")
    if not isinstance(model, str) or len(model) > MODEL_LENGTH:
        raise StoreError(f"model: expected a string of at most {MODEL_LENGTH} characters, got {brief(model)}")
    if not isinstance(config, dict):
        raise StoreError(f"config: expected a dict, got {type(config).__name__}")
    try:
        check_storable([name, model, config])
    except UnstorableValueError as e:
        raise StoreError(f"name, model, config: expected values both databases store, got {e}") from None


def register_system(
    session: Session,
    *,
    actor: str | None,
    name: str,
    model: str,
    config: dict,
    run_dir: str | Path | None = None,
) -> dict:
    """Add a system (admin), e.g. a model just trained: `model` is its name or checkpoint path, `config` how it was
    made. With `run_dir`, its <run_dir>/outputs.jsonl responses are imported too (all or nothing); without, the
    system has no responses yet. Returns {"system", "system_id", "n_responses", "n_new_dialogues"}."""
    require_role(session, actor, "admin", allow_cli=True)
    _check_system(name, model, config)
    if run_dir is not None:
        rows = read_responses(Path(run_dir) / "outputs.jsonl")
        return import_checked_run(
            session, actor=actor, name=name, model=model, config=config, rows=rows, run_dir=run_dir
        )
    name = name.strip()
    return _write_system(
        session, actor=actor, name=name, model=model, config=config, run_dir="", rows=[], source=Path(name)
    )


def import_run(session: Session, *, actor: str | None, run_dir: str | Path, system_name: str | None = None) -> dict:
    """Import <run_dir>/config.json + outputs.jsonl as one system (admin). Nothing is written if any line is bad.

    Returns {"system", "system_id", "n_responses", "n_new_dialogues"}. The name defaults to config["system"].
    """
    require_role(session, actor, "admin", allow_cli=True)
    run_dir = Path(run_dir)
    config_path = run_dir / "config.json"
    if not config_path.is_file():
        raise ImportFormatError(f"{config_path.resolve()}: expected a run config, got no such file")
    config, name, model = check_run_config(config_path, system_name=system_name)
    rows = read_responses(run_dir / "outputs.jsonl")
    return import_checked_run(session, actor=actor, name=name, model=model, config=config, rows=rows, run_dir=run_dir)


def import_checked_run(
    session: Session,
    *,
    actor: str | None,
    name: str,
    model: str,
    config: dict,
    rows: list[OutputRow],
    run_dir: str | Path,
    source: str | Path | None = None,
) -> dict:
    """Store a run whose config (check_run_config) and rows (read_responses) were already checked, e.g. from the
    bytes of an upload before its files were kept in `run_dir` (admin). `source` names the outputs file in messages
    (default <run_dir>/outputs.jsonl). Same return as import_run."""
    require_role(session, actor, "admin", allow_cli=True)
    _check_system(name, model, config)
    return _write_system(
        session,
        actor=actor,
        name=name.strip(),
        model=model,
        config=config,
        run_dir=str(Path(run_dir).resolve()),
        rows=rows,
        source=Path(source) if source is not None else Path(run_dir) / "outputs.jsonl",
    )


def import_responses_jsonl(
    session: Session,
    *,
    actor: str | None,
    path: str | Path | bytes,
    system_name: str,
    model: str = "",
    name: str | None = None,
) -> dict:
    """Import a responses JSONL (the outputs.jsonl schema; a path, or an upload's bytes called `name` in messages)
    as system `system_name` (admin). Same return as import_run."""
    require_role(session, actor, "admin", allow_cli=True)
    if not isinstance(system_name, str) or not 0 < len(system_name.strip()) <= NAME_LENGTH:
        raise StoreError(f"system_name: expected 1-{NAME_LENGTH} characters, got {brief(system_name)}")
    if not isinstance(model, str) or len(model) > MODEL_LENGTH:
        raise StoreError(f"model: expected a string of at most {MODEL_LENGTH} characters, got {brief(model)}")
    rows = read_responses(path, name=name)
    source = Path(name or "<upload>") if isinstance(path, bytes) else Path(path)
    return _write_system(
        session, actor=actor, name=system_name.strip(), model=model, config={}, run_dir="", rows=rows, source=source
    )


def get_system(session: Session, name: str) -> System:
    system = session.scalars(select(System).where(System.name == name)).one_or_none()
    if system is None:
        known = ", ".join(session.scalars(select(System.name).order_by(System.name))) or "none"
        raise NotFoundError(f"system: expected one of the imported systems ({known}), got {name!r}")
    return system


def list_systems(session: Session, *, actor: str, include_hidden: bool = False) -> list[dict]:
    """[{"id", "name", "model", "config", "run_dir", "n_responses", "hidden", "created_at"}] sorted by name (any
    role); systems an admin hid (hide_system) only with `include_hidden`."""
    require_role(session, actor, "viewer")
    counts = dict(session.execute(select(Response.system_id, func.count()).group_by(Response.system_id)).all())
    stmt = select(System).order_by(System.name)
    if not include_hidden:
        stmt = stmt.where(System.hidden.is_(False))
    return [
        {
            "id": s.id,
            "name": s.name,
            "model": s.model,
            "config": s.config,
            "run_dir": s.run_dir,
            "n_responses": counts.get(s.id, 0),
            "hidden": s.hidden,
            "created_at": s.created_at,
        }
        for s in session.scalars(stmt)
    ]


def hide_system(session: Session, *, actor: str | None, name: str, hidden: bool = True) -> dict:
    """Hide a system's run from the pages' run lists, or show it again (admin). Its responses, the projects that
    compare it and their judgements are kept and still count. Returns {"system", "hidden"}."""
    require_role(session, actor, "admin", allow_cli=True)
    system = get_system(session, name)
    system.hidden = bool(hidden)
    audit(session, actor, "hide_system" if hidden else "show_system", name)
    return {"system": name, "hidden": system.hidden}


def delete_system(session: Session, *, actor: str | None, name: str) -> dict:
    """Delete a system and its responses (admin), only while no project compares it: judgements are never deleted
    (hide_system hides a compared one). Dialogues stay (other systems may answer them). Returns {"system",
    "n_responses"}."""
    require_role(session, actor, "admin", allow_cli=True)
    system = get_system(session, name)
    responses = select(Response.id).where(Response.system_id == system.id)
    used = session.scalars(
        select(Project.name)
        .join(Comparison, Comparison.project_id == Project.id)
        .where(or_(Comparison.response_a_id.in_(responses), Comparison.response_b_id.in_(responses)))
        .distinct()
        .order_by(Project.name)
    ).all()
    if used:
        raise StoreError(
            f"system: expected a system no project compares, got {name!r}, compared in project(s) "
            f"{', '.join(map(repr, used))}: hide it instead (its judgements are kept)"
        )
    n = session.execute(delete(Response).where(Response.system_id == system.id)).rowcount
    session.delete(system)
    audit(session, actor, "delete_system", name, n_responses=n, run_dir=system.run_dir)
    return {"system": name, "n_responses": n}

"""Import systems' responses: a `pal evaluate` run directory or a bare responses JSONL (docs/interfaces.md).

Every line is validated before anything is added, so a malformed file writes nothing.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.errors import ImportFormatError, NotFoundError, StoreError
from db.models import Dialogue, Response, System
from db.users import audit, require_role

METADATA_FIELDS = ("dialogue_id", "turn", "time_s")


@dataclass(frozen=True)
class _Row:
    external_id: str
    persona: list[str]
    partner_persona: list[str]
    history: list[str]
    reference: str
    gold_label: list[int] | None
    source: str
    split: str
    response: str
    selected_index: int | None
    selected_sentence: str | None
    scores: list[float] | None
    contradiction: list[float] | None
    metadata: dict[str, Any]


def _field(row: dict, where: str, name: str, check, what: str, *, required: bool = True, default: Any = None) -> Any:
    if name not in row or (row[name] is None and not required):
        if required:
            raise ImportFormatError(f"{where}: field {name!r}: expected {what}, got nothing")
        return default
    value = row[name]
    if not check(value):
        raise ImportFormatError(f"{where}: field {name!r}: expected {what}, got {value!r:.60}")
    return value


def _is_str_list(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num_list(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, int | float) and not isinstance(x, bool) for x in v)


def _parse_line(line: str, where: str) -> _Row:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as e:
        raise ImportFormatError(f"{where}: expected a JSON object, got invalid JSON ({e.msg})") from e
    if not isinstance(row, dict):
        raise ImportFormatError(f"{where}: expected a JSON object, got {type(row).__name__}")
    return _Row(
        external_id=str(
            _field(row, where, "id", lambda v: isinstance(v, str | int) and str(v) != "", "a non-empty id")
        ),
        persona=_field(row, where, "persona", _is_str_list, "a list of strings"),
        partner_persona=_field(
            row, where, "partner_persona", _is_str_list, "a list of strings", required=False, default=[]
        ),
        history=_field(row, where, "history", _is_str_list, "a list of strings"),
        reference=_field(
            row, where, "reference", lambda v: isinstance(v, str), "a string", required=False, default=""
        ),
        gold_label=_field(
            row,
            where,
            "gold_label",
            lambda v: isinstance(v, list) and all(map(_is_int, v)),
            "a list of ints or null",
            required=False,
        ),
        source=_field(row, where, "source", lambda v: isinstance(v, str), "a string", required=False, default=""),
        split=_field(row, where, "split", lambda v: isinstance(v, str), "a string", required=False, default=""),
        response=_field(row, where, "response", lambda v: isinstance(v, str), "a string"),
        selected_index=_field(
            row, where, "selected_index", lambda v: _is_int(v) and v >= -1, "an int >= -1 or null", required=False
        ),
        selected_sentence=_field(
            row, where, "selected_sentence", lambda v: isinstance(v, str), "a string or null", required=False
        ),
        scores=_field(row, where, "scores", _is_num_list, "a list of numbers or null", required=False),
        contradiction=_field(row, where, "contradiction", _is_num_list, "a list of numbers or null", required=False),
        metadata={k: row[k] for k in METADATA_FIELDS if k in row},
    )


def _read_outputs(path: Path) -> list[_Row]:
    if not path.is_file():
        raise ImportFormatError(f"{path.resolve()}: expected a responses JSONL file, got no such file")
    rows, seen = [], set()
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            row = _parse_line(line, where)
            if row.external_id in seen:
                raise ImportFormatError(
                    f"{where}: field 'id': expected a unique id, got duplicate {row.external_id!r}"
                )
            seen.add(row.external_id)
            rows.append(row)
    if not rows:
        raise ImportFormatError(f"{path}: expected at least one response line, got an empty file")
    return rows


def _write_system(
    session: Session,
    *,
    actor: str | None,
    name: str,
    model: str,
    config: dict,
    run_dir: str,
    rows: list[_Row],
    source: Path,
) -> dict:
    if session.scalars(select(System.id).where(System.name == name)).first() is not None:
        raise StoreError(f"system_name: expected a new system name, got existing {name!r}")
    ids = [r.external_id for r in rows]
    existing: dict[str, Dialogue] = {}
    for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
        chunk = ids[start : start + 500]
        existing.update(
            {d.external_id: d for d in session.scalars(select(Dialogue).where(Dialogue.external_id.in_(chunk)))}
        )
    for r in rows:
        old = existing.get(r.external_id)
        if old is not None and (old.persona != r.persona or old.history != r.history):
            raise ImportFormatError(
                f"{source}: id {r.external_id!r}: expected the persona and history already stored "
                "for this id, got different ones"
            )
    system = System(name=name, model=model, config=config, run_dir=run_dir)
    session.add(system)
    n_new = 0
    for r in rows:
        dialogue = existing.get(r.external_id)
        if dialogue is None:
            dialogue = Dialogue(
                external_id=r.external_id,
                persona=r.persona,
                partner_persona=r.partner_persona,
                history=r.history,
                reference=r.reference,
                gold_label=r.gold_label,
                source=r.source or str(config.get("data", "")),
                split=r.split,
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
                meta=r.metadata,
            )
        )
    session.flush()
    audit(session, actor, "import_system", name, source=str(source), n_responses=len(rows), n_new_dialogues=n_new)
    return {"system": name, "system_id": system.id, "n_responses": len(rows), "n_new_dialogues": n_new}


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
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 128:
        raise StoreError(f"name: expected 1-128 characters, got {name!r}")
    if not isinstance(model, str) or len(model) > 255:
        raise StoreError(f"model: expected a string of at most 255 characters, got {model!r:.60}")
    if not isinstance(config, dict):
        raise StoreError(f"config: expected a dict, got {type(config).__name__}")
    rows, source = [], Path(name.strip())
    if run_dir is not None:
        source = Path(run_dir) / "outputs.jsonl"
        rows = _read_outputs(source)
    return _write_system(
        session,
        actor=actor,
        name=name.strip(),
        model=model,
        config=config,
        run_dir=str(Path(run_dir).resolve()) if run_dir is not None else "",
        rows=rows,
        source=source,
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
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ImportFormatError(f"{config_path}:{e.lineno}: expected a JSON object, got invalid JSON ({e.msg})") from e
    if not isinstance(config, dict):
        raise ImportFormatError(f"{config_path}: expected a JSON object, got {type(config).__name__}")
    name = system_name or config.get("system")
    if not isinstance(name, str) or not name.strip():
        raise ImportFormatError(f"{config_path}: field 'system': expected a non-empty string, got {name!r}")
    model = config.get("model") or ""
    if not isinstance(model, str):
        raise ImportFormatError(f"{config_path}: field 'model': expected a string, got {model!r:.60}")
    return register_system(session, actor=actor, name=name, model=model, config=config, run_dir=run_dir)


def import_responses_jsonl(
    session: Session, *, actor: str | None, path: str | Path, system_name: str, model: str = ""
) -> dict:
    """Import a responses JSONL (the outputs.jsonl schema) as system `system_name` (admin). Same return as import_run."""
    require_role(session, actor, "admin", allow_cli=True)
    if not isinstance(system_name, str) or not system_name.strip():
        raise StoreError(f"system_name: expected a non-empty string, got {system_name!r}")
    path = Path(path)
    rows = _read_outputs(path)
    return _write_system(
        session, actor=actor, name=system_name.strip(), model=model, config={}, run_dir="", rows=rows, source=path
    )


def get_system(session: Session, name: str) -> System:
    system = session.scalars(select(System).where(System.name == name)).one_or_none()
    if system is None:
        known = ", ".join(session.scalars(select(System.name).order_by(System.name))) or "none"
        raise NotFoundError(f"system: expected one of the imported systems ({known}), got {name!r}")
    return system


def list_systems(session: Session, *, actor: str) -> list[dict]:
    """[{"id", "name", "model", "config", "run_dir", "n_responses", "created_at"}] sorted by name (any role)."""
    require_role(session, actor, "viewer")
    counts = dict(session.execute(select(Response.system_id, func.count()).group_by(Response.system_id)).all())
    return [
        {
            "id": s.id,
            "name": s.name,
            "model": s.model,
            "config": s.config,
            "run_dir": s.run_dir,
            "n_responses": counts.get(s.id, 0),
            "created_at": s.created_at,
        }
        for s in session.scalars(select(System).order_by(System.name))
    ]

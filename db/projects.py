"""Comparison projects: pairwise items over the dialogues that the chosen systems share, sides randomised and stored."""

import itertools
import random

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.errors import NotFoundError, StoreError
from db.imports import get_system
from db.models import Comparison, Dialogue, Project, Response
from db.queue_order import DEFAULT_QUEUE_ORDER, check_queue_order
from db.users import audit, require_role
from formats.vocab import DEFAULT_QUESTIONS, NO_WINNER, QUESTIONS

SPECIAL_ANSWERS = NO_WINNER  # gold answers that name no system
DEFAULT_MIN_SECONDS = 3.0  # median seconds per judgement below which the Agreement page flags an annotator


def get_project_row(session: Session, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None:
        raise NotFoundError(f"project_id: expected an existing project, got {project_id!r}")
    return project


def _project_dict(session: Session, project: Project) -> dict:
    n_items, n_gold = session.execute(
        select(func.count(), func.count(Comparison.gold_answer)).where(Comparison.project_id == project.id)
    ).one()
    return {
        "id": project.id,
        "name": project.name,
        "guidelines": project.guidelines,
        "questions": project.questions,
        "required_questions": project.required_questions,
        "systems": project.system_names,
        "n_items": n_items,
        "n_gold": n_gold,
        "annotators_per_item": project.annotators_per_item,
        "queue_order": project.queue_order,
        "min_seconds": project.gold_settings.get("min_seconds", DEFAULT_MIN_SECONDS),
        "created_at": project.created_at,
    }


def _check_questions(questions: list[str], required: list[str]) -> None:
    for name, values, allowed in (("questions", questions, QUESTIONS), ("required_questions", required, questions)):
        bad = [q for q in values if q not in allowed]
        if bad or len(set(values)) != len(values):
            raise StoreError(f"{name}: expected distinct names from {', '.join(allowed) or 'none'}, got {values!r}")


def _validate(
    session: Session, name: str, system_names: list[str], annotators_per_item: int, n_items: int | None
) -> None:
    if not isinstance(name, str) or not name.strip() or len(name) > 128:
        raise StoreError(f"name: expected 1-128 characters, got {name!r}")
    if session.scalars(select(Project.id).where(Project.name == name)).first() is not None:
        raise StoreError(f"name: expected a new project name, got existing {name!r}")
    if len(system_names) < 2 or len(set(system_names)) != len(system_names):
        raise StoreError(f"system_names: expected two or more distinct systems, got {system_names!r}")
    if not isinstance(annotators_per_item, int) or annotators_per_item < 1:
        raise StoreError(f"annotators_per_item: expected an int >= 1, got {annotators_per_item!r}")
    if n_items is not None and (not isinstance(n_items, int) or n_items < 1):
        raise StoreError(f"n_items: expected None or an int >= 1, got {n_items!r}")


def _gold_answer(answer: str, name_a: str, name_b: str) -> str | None:
    if answer in SPECIAL_ANSWERS:
        return answer
    return {name_a: "A", name_b: "B"}.get(answer)  # None: the known winner is not in this pair


def create_project(
    session: Session,
    *,
    actor: str,
    name: str,
    system_names: list[str],
    guidelines: str = "",
    questions: list[str] | None = None,
    required_questions: list[str] | None = None,
    annotators_per_item: int = 1,
    n_items: int | None = None,
    gold_items: dict[str, str] | None = None,
    min_seconds: float = DEFAULT_MIN_SECONDS,
    queue_order: str = DEFAULT_QUEUE_ORDER,
    seed: int = 0,
) -> dict:
    """Build a project (admin): one item per pair of systems per shared dialogue, `n_items` sampled if given.

    gold_items maps a dialogue external id to the known answer: the better system's name, "tie" or "both_bad"
    (stored as A/B after the side shuffle). `questions` are the per-reply questions asked (QUESTIONS; default
    DEFAULT_QUESTIONS), `required_questions` those a judgement must answer (default none: any may stay NULL).
    An annotator whose median time per judgement is under `min_seconds` is flagged. `queue_order` (QUEUE_ORDERS,
    see db/queue_order.py) is the order items are served in. Returns get_project()'s dict.
    """
    require_role(session, actor, "admin")
    system_names = list(system_names)
    questions = list(DEFAULT_QUESTIONS if questions is None else questions)
    required_questions = list(required_questions or [])
    _check_questions(questions, required_questions)
    if not isinstance(min_seconds, int | float) or isinstance(min_seconds, bool) or not 0 <= min_seconds < 3600:
        raise StoreError(f"min_seconds: expected a number from 0 to 3600, got {min_seconds!r}")
    check_queue_order(queue_order)
    _validate(session, name, system_names, annotators_per_item, n_items)
    systems = [get_system(session, n) for n in system_names]
    by_system = {
        s.name: dict(
            session.execute(select(Response.dialogue_id, Response.id).where(Response.system_id == s.id)).all()
        )
        for s in systems
    }
    shared = sorted(set.intersection(*(set(d) for d in by_system.values())))
    if not shared:
        raise StoreError(
            f"system_names: expected systems that answered the same dialogues, got none shared by "
            f"{', '.join(system_names)}"
        )
    gold_items = dict(gold_items or {})
    gold_ids = dict(
        session.execute(
            select(Dialogue.external_id, Dialogue.id).where(Dialogue.external_id.in_(list(gold_items)))
        ).all()
    )
    shared_set = set(shared)
    missing = sorted(e for e in gold_items if gold_ids.get(e) not in shared_set)
    if missing:
        raise NotFoundError(f"gold_items: expected ids of dialogues shared by the systems, got unknown {missing[:5]}")
    for ext, answer in gold_items.items():
        if answer not in SPECIAL_ANSWERS and answer not in system_names:
            raise StoreError(
                f"gold_items[{ext!r}]: expected one of the project's systems, 'tie' or 'both_bad', got {answer!r}"
            )
    gold_by_dialogue = {gold_ids[e]: answer for e, answer in gold_items.items()}
    rng = random.Random(seed)
    items = []  # (dialogue id, (name, response id) shown as A, (name, response id) shown as B, gold answer)
    for dialogue_id in shared:
        for s1, s2 in itertools.combinations(system_names, 2):
            sides = [(s1, by_system[s1][dialogue_id]), (s2, by_system[s2][dialogue_id])]
            rng.shuffle(sides)
            known = gold_by_dialogue.get(dialogue_id)
            gold = _gold_answer(known, sides[0][0], sides[1][0]) if known is not None else None
            items.append((dialogue_id, sides[0], sides[1], gold))
    if n_items is not None and n_items < len(items):
        gold_part = [it for it in items if it[3] is not None][:n_items]
        rest = [it for it in items if it[3] is None]
        items = gold_part + rng.sample(rest, n_items - len(gold_part))
    rng.shuffle(items)
    project = Project(
        name=name.strip(),
        guidelines=guidelines,
        questions=questions,
        required_questions=required_questions,
        annotators_per_item=annotators_per_item,
        queue_order=queue_order,
        system_names=system_names,
        created_by=actor,
        gold_settings={"items": gold_items, "min_seconds": float(min_seconds)},
    )
    session.add(project)
    session.flush()
    session.add_all(
        Comparison(
            project_id=project.id,
            dialogue_id=d,
            response_a_id=a[1],
            response_b_id=b[1],
            position=i,
            is_gold=gold is not None,
            gold_answer=gold,
        )
        for i, (d, a, b, gold) in enumerate(items)
    )
    session.flush()
    audit(
        session,
        actor,
        "create_project",
        project.name,
        systems=system_names,
        n_items=len(items),
        queue_order=queue_order,
        seed=seed,
    )
    return _project_dict(session, project)


def set_queue_order(session: Session, *, actor: str, project_id: int, queue_order: str) -> dict:
    """Change the order the project's queue serves items in (admin; QUEUE_ORDERS); it applies from the next item
    each annotator takes, and no judgement or reservation changes. Returns get_project()'s dict."""
    require_role(session, actor, "admin")
    project = get_project_row(session, project_id)
    previous, project.queue_order = project.queue_order, check_queue_order(queue_order)
    audit(session, actor, "set_queue_order", f"project:{project_id}", previous=previous, queue_order=queue_order)
    return _project_dict(session, project)


def list_projects(session: Session, *, actor: str | None) -> list[dict]:
    """[{"id", "name", "guidelines", "questions", "required_questions", "systems", "n_items", "n_gold",
    "annotators_per_item", "queue_order", "min_seconds", "created_at"}] sorted by id (any role)."""
    require_role(session, actor, "viewer", allow_cli=True)
    return [_project_dict(session, p) for p in session.scalars(select(Project).order_by(Project.id))]


def get_project(session: Session, *, actor: str | None, project_id: int) -> dict:
    """{"id", "name", "guidelines", "questions", "required_questions", "systems", "n_items", "n_gold",
    "annotators_per_item", "queue_order", "min_seconds", "created_at"}."""
    require_role(session, actor, "viewer", allow_cli=True)
    return _project_dict(session, get_project_row(session, project_id))

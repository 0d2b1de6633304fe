"""A demo database: users, every shipped run imported, one project with a few judgements. Idempotent: whatever
already exists (a user, a system of that name, the project) is left as it is, so a second run writes nothing.

The demo accounts have public passwords, so they go only into a database that seed_demo itself started: an empty one
(then marked by a `seed_demo` audit row) or one it seeded before. Any other database is refused."""

import logging
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.annotate import record_judgement
from db.assignments import next_item
from db.errors import NotFoundError, StoreError
from db.imports import import_run
from db.models import AuditLog, Comparison, Dialogue, Project, Response, System, User
from db.projects import create_project
from db.users import audit, create_user

logger = logging.getLogger(__name__)

# name -> (role, password). Demo only: shown on the login page of a demo install so people can try every role.
DEMO_USERS = {
    "admin": ("admin", "admin-demo"),
    "alice": ("annotator", "annotator-demo"),
    "bob": ("annotator", "annotator-demo"),
    "researcher": ("researcher", "researcher-demo"),
    "viewer": ("viewer", "viewer-demo"),
}
DEMO_PROJECT = "Demo comparison"
DEMO_GUIDELINES = (
    "Read the persona and the conversation, then pick the reply that a person with this persona would more "
    "plausibly say next. Prefer replies that stay consistent with the persona; flag any reply that contradicts it."
)
N_GOLD = 3
JUDGEMENTS_PER_ANNOTATOR = 5


def _system_name(run_dir: Path) -> str | None:
    """A demo run's system name: its folder's name (two runs may share a system type, e.g. the untrained and the
    fine-tuned whole-persona runs), for a folder holding a config.json."""
    return run_dir.name if (run_dir / "config.json").is_file() else None


def _persona_overlap(persona: list[str], text: str) -> int:
    """Content words a reply shares with the persona: the demo annotators' stand-in for persona consistency."""
    words = {w.strip(".,!?'").lower() for sentence in persona for w in sentence.split()}
    return len({w.strip(".,!?'").lower() for w in text.split() if len(w) > 3} & words)


def _demo_preference(score_a: int, score_b: int, *, flip: bool) -> str:
    """Prefer the side with more persona overlap (equal -> 'tie'); `flip` makes a disagreement."""
    preference = "A" if score_a > score_b else "B" if score_b > score_a else "tie"
    if flip and preference != "tie":
        preference = "B" if preference == "A" else "A"
    return preference


def is_demo(session: Session) -> bool:
    """True for a database seed_demo() started (only there may the login page show the demo passwords)."""
    return session.scalars(select(AuditLog.id).where(AuditLog.action == "seed_demo").limit(1)).first() is not None


def seed_demo(session: Session, *, runs_dir: Path) -> dict:
    """Create DEMO_USERS, import every run dir under runs_dir, build DEMO_PROJECT (2 annotators per item, a few gold
    items) and record ~10 judgements. Running it again changes nothing. Returns {"users", "systems", "project_id",
    "n_judgements", "created"} (users/systems: the names created by this call)."""
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        raise NotFoundError(f"runs_dir: expected a folder of run directories, got {runs_dir.resolve()}")
    existing_users = set(session.scalars(select(User.name)))
    if not is_demo(session):
        held = {
            what: n
            for what, model in (("user", User), ("system", System), ("dialogue", Dialogue), ("project", Project))
            if (n := session.scalar(select(func.count()).select_from(model)))
        }
        if held:
            found = ", ".join(f"{n} {what}(s)" for what, n in held.items())
            raise StoreError(
                f"database: expected an empty database or one `pal demo seed` made, got one with {found}; the demo "
                "accounts have public passwords, so seed a separate database (make demo uses "
                "~/.local/share/pal-studio/demo.db)"
            )
    if not existing_users:
        audit(session, None, "seed_demo", "database")
    users = [name for name in DEMO_USERS if name not in existing_users]
    for name in users:
        role, password = DEMO_USERS[name]
        create_user(session, actor=None, name=name, password=password, role=role)
    existing_systems = set(session.scalars(select(System.name)))
    systems, names = [], []
    for run_dir in sorted(p for p in runs_dir.iterdir() if (p / "outputs.jsonl").is_file()):
        name = _system_name(run_dir)
        if name and name not in existing_systems:
            import_run(session, actor=None, run_dir=run_dir, system_name=name)
            systems.append(name)
        if name:
            names.append(name)
    project = session.scalars(select(Project).where(Project.name == DEMO_PROJECT)).one_or_none()
    if project is not None:
        return {"users": users, "systems": systems, "project_id": project.id, "n_judgements": 0, "created": False}
    names = sorted(names)
    if len(names) < 2:
        raise NotFoundError(
            f"runs_dir: expected two or more run directories under {runs_dir.resolve()}, got systems {names}"
        )
    responses = {
        n: {
            d.external_id: (d.persona, text)
            for d, text in session.execute(
                select(Dialogue, Response.text).join(Response).join(System).where(System.name == n)
            )
        }
        for n in names
    }
    gold = {}
    for dialogue_id in sorted(set.intersection(*(set(r) for r in responses.values()))):
        overlap = {n: _persona_overlap(*responses[n][dialogue_id]) for n in names}
        ranked = sorted(overlap.values(), reverse=True)
        if ranked[0] > ranked[1]:  # a clear winner makes a fair gold item
            gold[dialogue_id] = max(overlap, key=overlap.__getitem__)
        if len(gold) == N_GOLD:
            break
    created = create_project(
        session,
        actor="admin",
        name=DEMO_PROJECT,
        system_names=names,
        guidelines=DEMO_GUIDELINES,
        annotators_per_item=2,
        gold_items=gold,
        seed=0,
    )
    n = 0
    # bob disagrees once (his first item from the third on whose replies are not tied), so adjudication has work
    for annotator, flip_from in (("alice", None), ("bob", 2)):
        flipped = False
        for i in range(JUDGEMENTS_PER_ANNOTATOR):
            item = next_item(session, actor=annotator, project_id=created["id"])
            if item is None:
                break
            comparison = session.get(Comparison, item["item_id"])
            persona = comparison.dialogue.persona
            a, b = (_persona_overlap(persona, r.text) for r in (comparison.response_a, comparison.response_b))
            flip = not flipped and flip_from is not None and i >= flip_from and a != b
            flipped = flipped or flip
            record_judgement(
                session,
                actor=annotator,
                item_id=item["item_id"],
                preference=_demo_preference(a, b, flip=flip),
                consistency_a=4 if a >= b else 3,
                consistency_b=4 if b >= a else 3,
                seconds=20.0 + 3 * i,
                reason="demo judgement",
            )
            n += 1
    logger.info("seeded demo project %r with %d judgements", DEMO_PROJECT, n)
    return {"users": users, "systems": systems, "project_id": created["id"], "n_judgements": n, "created": True}

"""The one API the UI and CLI call for annotation data. Every function takes a `Session` first, the rest
keyword-only, returns plain dicts/lists, and never commits: frame it with `with factory.begin() as session:`.

`actor` is the acting user's name; its role is checked (db.users.ROLE_RANK: viewer < annotator < researcher <
admin; viewers read aggregates (db.summaries), annotators annotate and see their own judgements only, researchers
read every judgement, export and train, admins do everything) and `PermissionDeniedError` is raised otherwise.
`actor=None` is accepted only by the administrative calls the local operator runs from the CLI (create_user,
import_*, export_*, seed_demo) and means "the trusted local operator", recorded as `cli` in the audit log. Bad input raises a `db.errors.StoreError`.
"""

from db.annotate import (
    ANSWER_FIELDS,
    PREFERENCES,
    adjudicate,
    get_own_judgement,
    list_disagreements,
    list_my_judgements,
    record_judgement,
    sides_swapped,
    swap_sides,
    undo_last,
)
from db.assignments import assign, get_item, next_item, project_progress, skip
from db.demo import DEMO_PROJECT, DEMO_USERS, seed_demo
from db.exports import export_judgements_table, export_preferences, judgements_csv, judgements_frame
from db.imports import import_responses_jsonl, import_run, list_systems, register_system
from db.projects import DEFAULT_QUESTIONS, QUESTIONS, create_project, get_project, list_projects
from db.summaries import criterion_means, outcome_counts
from db.users import ROLES, authenticate, create_user, is_empty, list_audit, list_users, set_role

__all__ = [
    "ANSWER_FIELDS",
    "DEFAULT_QUESTIONS",
    "QUESTIONS",
    "get_own_judgement",
    "list_my_judgements",
    "sides_swapped",
    "swap_sides",
    "DEMO_PROJECT",
    "DEMO_USERS",
    "PREFERENCES",
    "ROLES",
    "adjudicate",
    "assign",
    "authenticate",
    "create_project",
    "create_user",
    "criterion_means",
    "export_judgements_table",
    "export_preferences",
    "get_item",
    "get_project",
    "import_responses_jsonl",
    "import_run",
    "is_empty",
    "judgements_csv",
    "judgements_frame",
    "list_audit",
    "list_disagreements",
    "list_projects",
    "list_systems",
    "list_users",
    "next_item",
    "outcome_counts",
    "project_progress",
    "record_judgement",
    "register_system",
    "seed_demo",
    "set_role",
    "skip",
    "undo_last",
]

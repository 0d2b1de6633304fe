"""The one API the UI and CLI call for annotation data. Every function takes a `Session` first, the rest
keyword-only, returns plain dicts/lists, and never commits: frame it with `with factory.begin() as session:`.

`actor` is the acting user's name; its role is checked (db.users.ROLE_RANK: viewer < annotator < researcher <
admin; viewers read aggregates (db.summaries; refused to an annotator with items left to judge in the project:
may_see_system_aggregates), annotators annotate and see their own judgements only, researchers
read every judgement, export and train, admins do everything) and `PermissionDeniedError` is raised otherwise.
`actor=None` is accepted only by the administrative calls the local operator runs from the CLI (create_user,
change_password, set_disabled, import_*, export_*, record_export, seed_demo) and means "the trusted local operator", recorded as
`cli` in the audit log; the dashboard always passes the signed-in user's name (tests/pages/test_security.py). Bad input raises a `db.errors.StoreError`.
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
from db.demo import DEMO_PROJECT, DEMO_USERS, is_demo, seed_demo
from db.exports import (
    export_judgements_table,
    export_preferences,
    judgements_csv,
    judgements_frame,
    record_export,
)
from db.imports import (
    delete_system,
    hide_system,
    import_responses_jsonl,
    import_run,
    list_systems,
    register_system,
)
from db.logins import SESSION_TTL, login, logout, resolve_session, start_session
from db.projects import DEFAULT_QUESTIONS, QUESTIONS, create_project, get_project, list_projects, set_queue_order
from db.queue_order import QUEUE_ORDERS
from db.summaries import criterion_means, may_see_system_aggregates, outcome_counts
from db.users import (
    ROLE_RANK,
    ROLES,
    authenticate,
    authorize,
    change_password,
    create_user,
    is_empty,
    list_audit,
    list_users,
    set_disabled,
    set_role,
)

__all__ = [
    "ANSWER_FIELDS",
    "DEFAULT_QUESTIONS",
    "DEMO_PROJECT",
    "DEMO_USERS",
    "PREFERENCES",
    "QUESTIONS",
    "QUEUE_ORDERS",
    "ROLES",
    "ROLE_RANK",
    "SESSION_TTL",
    "adjudicate",
    "assign",
    "authenticate",
    "authorize",
    "change_password",
    "create_project",
    "create_user",
    "criterion_means",
    "delete_system",
    "export_judgements_table",
    "export_preferences",
    "get_item",
    "get_own_judgement",
    "get_project",
    "hide_system",
    "import_responses_jsonl",
    "import_run",
    "is_demo",
    "is_empty",
    "judgements_csv",
    "judgements_frame",
    "list_audit",
    "list_disagreements",
    "list_my_judgements",
    "list_projects",
    "list_systems",
    "list_users",
    "login",
    "may_see_system_aggregates",
    "logout",
    "next_item",
    "outcome_counts",
    "project_progress",
    "record_export",
    "record_judgement",
    "register_system",
    "resolve_session",
    "seed_demo",
    "set_disabled",
    "set_queue_order",
    "set_role",
    "sides_swapped",
    "skip",
    "start_session",
    "swap_sides",
    "undo_last",
]

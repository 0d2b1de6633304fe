"""Import judgements made in Label Studio from its JSON export (a list of tasks, each with `data` and
`annotations`) into a comparison project. Everything is read and checked before anything is written, and every
refusal names `<file>:<line>` and what was expected there (the line of the task, annotation or result entry).
"""

import bisect
import json
import re
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.annotate import ANSWER_FIELDS, _check_answers
from db.errors import ImportFormatError, StoreError
from db.label_studio import from_result
from db.models import Assignment, Comparison, Dialogue, Judgement, Response, User, utc_now
from db.projects import get_project_row
from db.queries import current_for_item
from db.users import ROLE_RANK, audit, require_role
from formats.jsontext import brief, parse_json
from formats.textio import iter_lines

EMAIL_DOMAIN = "pal-studio.local"  # our export writes completed_by.email as <user name>@this
_WS = re.compile(r"[ \t\n\r]*")
_RAW = json.JSONDecoder()
_COMPARED = ("preference", "reason", *(name for fields in ANSWER_FIELDS.values() for name in fields))


class _Text:
    """The decoded file: offsets of the members of a JSON object or array, and the line of an offset."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.newlines = [m.start() for m in re.finditer("\n", text)]

    def line(self, offset: int) -> int:
        return bisect.bisect_left(self.newlines, offset) + 1

    def members(self, start: int) -> dict:
        """key (or list index) -> offset of the value, for the object or array starting at `start`."""
        text, out = self.text, {}
        closing = "}" if text[start] == "{" else "]"
        i = _WS.match(text, start + 1).end()
        while text[i] != closing:
            if closing == "}":
                key, i = json.decoder.scanstring(text, i + 1)
                i = _WS.match(text, _WS.match(text, i).end() + 1).end()
            else:
                key = len(out)
            out[key] = i
            _, i = _RAW.raw_decode(text, i)
            i = _WS.match(text, i).end()
            i = _WS.match(text, i + 1).end() if text[i] == "," else i
        return out


def _user_name(value: object, id_names: dict[int, str]) -> str | None:
    """Our user name from `completed_by`: a Label Studio user id mapped by `id_names` (the default export writes
    ids), or an object whose `email` (or the email itself) is <name>@pal-studio.local or another email naming a user
    (or its part before @), or an object with an `id` in `id_names`."""
    if isinstance(value, dict):
        value = value.get("email") or value.get("id")
    if isinstance(value, int) and not isinstance(value, bool):
        return id_names.get(value)
    if not isinstance(value, str) or not value:
        return None
    return value.removesuffix("@" + EMAIL_DOMAIN)


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _find_item(items: dict, data: object) -> tuple[int, bool] | None:
    """(item id, sides swapped) of the project item whose dialogue and two replies the task shows, or None."""
    if not isinstance(data, dict):
        return None
    for item_id, (reply_a, reply_b) in items.get(data.get("dialogue_id"), {}).items():
        shown = (data.get("reply_a"), data.get("reply_b"))
        if shown in ((reply_a, reply_b), (reply_b, reply_a)):
            return item_id, shown != (reply_a, reply_b)
    return None


def _project_items(session: Session, project_id: int) -> dict:
    """dialogue external id -> {item id: (reply A text, reply B text)}."""
    a, b = Response.__table__.alias("a"), Response.__table__.alias("b")
    out: dict = {}
    for item_id, external_id, text_a, text_b in session.execute(
        select(Comparison.id, Dialogue.external_id, a.c.text, b.c.text)
        .join(Dialogue, Dialogue.id == Comparison.dialogue_id)
        .join(a, a.c.id == Comparison.response_a_id)
        .join(b, b.c.id == Comparison.response_b_id)
        .where(Comparison.project_id == project_id)
    ):
        out.setdefault(external_id, {})[item_id] = (text_a, text_b)
    return out


def _read(path: Path, source: bytes | None) -> tuple[_Text, list]:
    lines = [
        text for _, text in iter_lines(source if source is not None else path, str(path), error=ImportFormatError)
    ]
    doc = _Text("\n".join(lines))
    tasks = parse_json(doc.text, str(path), "a Label Studio JSON export (a list of tasks)", error=ImportFormatError)
    if not isinstance(tasks, list):
        raise ImportFormatError(f"{path}:1: expected a Label Studio JSON export (a list of tasks), got {brief(tasks)}")
    return doc, tasks


def parse_annotations(
    session: Session, project_id: int, path: Path, source: bytes | None = None, id_names: dict[int, str] | None = None
) -> tuple[list[dict], int]:
    """(every non-cancelled annotation of the file as {"line", "item_id", "swapped", "user_id", "answers",
    "seconds", "created_at"}, the number of cancelled ones), checked against the project's items, questions and
    users."""
    project = get_project_row(session, project_id)
    items = _project_items(session, project_id)
    persona_len = dict(
        session.execute(
            select(Comparison.id, Dialogue.persona)
            .join(Dialogue, Dialogue.id == Comparison.dialogue_id)
            .where(Comparison.project_id == project_id)
        ).all()
    )
    users = {u.name: u for u in session.scalars(select(User))}
    doc, tasks = _read(path, source)
    task_at = doc.members(_WS.match(doc.text).end())
    out, cancelled = [], 0
    for t, task in enumerate(tasks):
        where = f"{path}:{doc.line(task_at[t])}"
        if not isinstance(task, dict) or not isinstance(task.get("annotations", []), list):
            raise ImportFormatError(
                f"{where}: expected a task object with 'data' and 'annotations', got {brief(task)}"
            )
        found = _find_item(items, task.get("data"))
        if found is None:
            data = task.get("data")
            got = brief(data.get("dialogue_id") if isinstance(data, dict) else data)
            raise ImportFormatError(
                f"{where}: expected a task whose data (dialogue_id, reply_a, reply_b) shows an item of project "
                f"{project_id}, got dialogue_id {got} with no such item"
            )
        item_id, swapped = found
        members = doc.members(task_at[t])
        ann_at = doc.members(members["annotations"]) if "annotations" in members else {}
        for a, annotation in enumerate(task.get("annotations", [])):
            where = f"{path}:{doc.line(ann_at[a])}"
            if not isinstance(annotation, dict):
                raise ImportFormatError(f"{where}: expected an annotation object, got {brief(annotation)}")
            if annotation.get("was_cancelled"):
                cancelled += 1
                continue  # a skipped task: no answer was given
            name = _user_name(annotation.get("completed_by"), id_names or {})
            user = users.get(name) or users.get((name or "").split("@")[0])
            if user is None or ROLE_RANK[user.role] < ROLE_RANK["annotator"]:
                got = brief(annotation.get("completed_by"))
                raise ImportFormatError(
                    f"{where}: expected completed_by naming an annotator of this store (email <name>@{EMAIL_DOMAIN}"
                    f" or <name>@..., or a Label Studio user id given a name with --user ID=NAME), got {got}"
                )
            max_persona = len(persona_len[item_id])
            answers, problem = from_result(annotation.get("result"), project.questions, max_persona)
            if problem is not None:
                at = doc.members(ann_at[a])
                entry = re.match(r"result\[(\d+)\]", problem)
                line = doc.line(doc.members(at["result"])[int(entry[1])]) if entry else doc.line(ann_at[a])
                raise ImportFormatError(f"{path}:{line}: expected {problem}")
            if swapped:  # the task showed the item's reply B as reply_a
                answers = {
                    (k[:-1] + ("b" if k.endswith("_a") else "a")) if k.endswith(("_a", "_b")) else k: v
                    for k, v in answers.items()
                }
                answers["preference"] = {"A": "B", "B": "A"}.get(answers["preference"], answers["preference"])
            try:
                _check_answers(
                    {k: answers[k] for k in _COMPARED[2:]},
                    persona_len[item_id],
                    project.questions,
                    project.required_questions,
                )
            except StoreError as e:
                raise ImportFormatError(f"{where}: expected answers the project accepts, got {e}") from e
            if len(answers["reason"]) > 5000:
                raise ImportFormatError(f"{where}: expected a reason of at most 5000 characters, got more")
            seconds = annotation.get("lead_time")
            if seconds is not None and (
                not isinstance(seconds, int | float) or isinstance(seconds, bool) or not 0 <= seconds < 86_400
            ):
                raise ImportFormatError(
                    f"{where}: expected lead_time as seconds from 0 to 86400, got {brief(seconds)}"
                )
            created = annotation.get("created_at")
            if created is not None and _time(created) is None:
                raise ImportFormatError(f"{where}: expected created_at as an ISO 8601 time, got {brief(created)}")
            out.append(
                {
                    "line": doc.line(ann_at[a]),
                    "item_id": item_id,
                    "swapped": swapped,
                    "user_id": user.id,
                    "answers": answers,
                    "seconds": None if seconds is None else float(seconds),
                    "created_at": _time(created) or utc_now(),
                }
            )
    return out, cancelled


def import_label_studio(
    session: Session,
    *,
    actor: str | None,
    project_id: int,
    path: str | Path,
    source: bytes | None = None,
    id_names: dict[int, str] | None = None,
) -> dict:
    """Add the judgements of a Label Studio JSON export (`path`, or the uploaded bytes `source` named `path`) to a
        project (admin). A task matches the project item with the same dialogue_id and the same two replies (either
        order: answers are mapped back to the item's sides); completed_by names the annotator (Label Studio user ids
    through `id_names`, {id: user name}). An annotation equal to
        the annotator's current judgement on the item is left alone; a different one supersedes it (append-only);
        cancelled (skipped) annotations add nothing. Returns {"n_added", "n_unchanged", "n_cancelled"}."""
    require_role(session, actor, "admin", allow_cli=True)
    path = Path(path)
    parsed, cancelled = parse_annotations(session, project_id, path, source, id_names)
    added = unchanged = 0
    for row in parsed:
        previous = current_for_item(session, "judgement", row["item_id"], row["user_id"])
        if previous and all(getattr(previous[-1], k) == row["answers"][k] for k in _COMPARED):
            unchanged += 1
            continue
        session.add(
            Judgement(
                user_id=row["user_id"],
                comparison_id=row["item_id"],
                kind="judgement",
                supersedes_id=previous[-1].id if previous else None,
                sides_swapped=row["swapped"],
                seconds=row["seconds"],
                created_at=row["created_at"],
                **row["answers"],
            )
        )
        assignment = session.scalars(
            select(Assignment).where(Assignment.user_id == row["user_id"], Assignment.comparison_id == row["item_id"])
        ).one_or_none()
        if assignment is None:
            session.add(Assignment(user_id=row["user_id"], comparison_id=row["item_id"], status="done"))
        else:
            assignment.status, assignment.updated_at = "done", utc_now()
        session.flush()
        added += 1
    result = {"n_added": added, "n_unchanged": unchanged, "n_cancelled": cancelled}
    audit(
        session, actor, "import_judgements", f"project:{project_id}", path=str(path), format="label-studio", **result
    )
    return result

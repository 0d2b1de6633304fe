"""One line of a run's outputs.jsonl as a dataclass (`OutputRow`), checked field by field with messages
`<file>:<line>: expected 'field' as ..., got ...`. Fields other than id, persona, history and response are optional
(None when a run does not have them: a system that selects nothing has no `scores`). Keys the schema does not know
are kept in `extra` and written back as they were."""

from dataclasses import dataclass, field, fields, replace
from typing import Any

from formats.jsontext import FormatError, brief

# Column limits a caller may impose (db passes its own): string fields' max length, `turn`'s exclusive max.
Limits = dict[str, int]
_ALWAYS = (
    "id",
    "dialogue_id",
    "turn",
    "persona",
    "history",
    "reference",
    "response",
    "gold_label",
    "selected_index",
    "selected_sentence",
    "scores",
    "contradiction",
    "time_s",
)  # written in this order, null when missing; the others only when set (original_gold_label with original_persona)


@dataclass
class OutputRow:
    """One output of a system on one example (docs/interfaces.md, "Run directory")."""

    id: str
    persona: list[str]
    history: list[str]
    response: str
    reference: str | None = None  # the gold reply
    dialogue_id: str | None = None
    turn: int | None = None
    gold_label: list[int] | None = None  # [-1] = no persona sentence; None = unlabelled
    selected_index: int | None = None  # -1 = none; None = the system does not select
    selected_sentence: str | None = None
    scores: list[float] | None = None  # one per persona sentence, then one for "none"
    contradiction: list[float] | None = None  # per persona sentence, from the consistency model
    time_s: float | None = None
    partner_persona: list[str] | None = None
    source: str | None = None
    split: str | None = None
    original_persona: list[str] | None = None  # persona-swap runs: the dialogue's own persona ...
    original_gold_label: list[int] | None = None  # ... and its labels
    extra: dict[str, Any] = field(default_factory=dict)
    line: int = field(default=0, compare=False)  # where it was read (for messages); never written

    def to_dict(self) -> dict[str, Any]:
        """The outputs.jsonl object: the documented keys in order, then optional ones that are set, then `extra`."""
        out = {name: getattr(self, name) for name in _ALWAYS}
        for name in ("partner_persona", "source", "split", "original_persona"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if self.original_persona is not None:
            out["original_gold_label"] = self.original_gold_label
        return {**out, **self.extra}

    @classmethod
    def from_dict(
        cls,
        row: dict,
        where: str = "row",
        *,
        line: int = 0,
        limits: Limits | None = None,
        error: type[ValueError] = FormatError,
    ) -> "OutputRow":
        """A checked row from a parsed outputs.jsonl object read at `where` (`<file>:<line>`, `line`); a bad field
        raises `error` naming it."""
        return replace(_parse(row, where, limits or {}, error), line=line)


_KNOWN = {f.name for f in fields(OutputRow)} - {"extra", "line"}


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _is_str_list(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def _num_list(n: int):
    return lambda v: isinstance(v, list) and len(v) == n and all(map(_is_number, v))


def _is_label(n: int | None):
    def check(v: Any) -> bool:
        if not isinstance(v, list) or not v or not all(map(_is_int, v)):
            return False
        return v == [-1] or (len(set(v)) == len(v) and (n is None or all(0 <= i < n for i in v)))

    return check


def _parse(row: dict, where: str, limits: Limits, error: type[ValueError]) -> OutputRow:
    def get(name: str, check, what: str, *, required: bool = False) -> Any:
        if name not in row or (row[name] is None and not required):
            if required:
                raise error(f"{where}: expected {name!r} as {what}, got nothing")
            return None
        if not check(row[name]):
            raise error(f"{where}: expected {name!r} as {what}, got {brief(row[name])}")
        return row[name]

    def text(name: str) -> Any:
        if name not in limits:
            return get(name, lambda v: isinstance(v, str), "a string")
        n = limits[name]
        return get(name, lambda v: isinstance(v, str) and len(v) <= n, f"a string of at most {n} characters")

    def id_ok(v: Any) -> bool:
        return (isinstance(v, str) or _is_int(v)) and 0 < len(str(v)) <= limits.get("id", len(str(v)))

    id_what = f"a string or int of 1-{limits['id']} characters" if "id" in limits else "a non-empty string or int"
    external_id = get("id", id_ok, id_what, required=True)
    persona = get("persona", _is_str_list, "a list of strings", required=True)
    n, max_turn = len(persona), limits.get("turn")
    return OutputRow(
        id=str(external_id),
        persona=persona,
        history=get("history", _is_str_list, "a list of strings", required=True),
        response=get("response", lambda v: isinstance(v, str), "a string", required=True),
        reference=get("reference", lambda v: isinstance(v, str), "a string"),
        dialogue_id=text("dialogue_id"),
        turn=get("turn", lambda v: _is_int(v) and 0 <= v < (max_turn or v + 1), "an int >= 0"),
        gold_label=get("gold_label", _is_label(n), f"[-1] or distinct persona indices in 0..{n - 1}, or null"),
        selected_index=get(
            "selected_index", lambda v: _is_int(v) and -1 <= v < n, f"an int in -1..{n - 1} (-1 = none) or null"
        ),
        selected_sentence=get("selected_sentence", lambda v: isinstance(v, str), "a string or null"),
        scores=get("scores", _num_list(n + 1), f"{n + 1} numbers (one per persona sentence, then none) or null"),
        contradiction=get("contradiction", _num_list(n), f"{n} numbers (one per persona sentence) or null"),
        time_s=get("time_s", lambda v: _is_number(v) and v >= 0, "a number >= 0"),
        partner_persona=get("partner_persona", _is_str_list, "a list of strings"),
        source=text("source"),
        split=text("split"),
        original_persona=get("original_persona", _is_str_list, "a list of strings"),
        original_gold_label=get("original_gold_label", _is_label(None), "[-1] or distinct indices, or null"),
        extra={k: v for k, v in row.items() if k not in _KNOWN},
    )

"""The dialogue data types: one frozen `Example` per turn (validated on construction), a `Dialogue` of them, and
`check_label`, the persona-label rule every reader applies. Readers are in `readers.py`, loading and writing in
`loaders.py`."""

from dataclasses import dataclass, field

from formats import brief
from pal_core.errors import DataFormatError


def check_label(value: object, n_persona: int, where: str, of: str = "") -> tuple[int, ...] | None:
    """Validate a persona label: None (unlabelled), (-1,) (no sentence used) or distinct in-range 0-based indices.
    `of` names the record in messages (e.g. " of record 3")."""
    if value is None:
        return None
    ok = isinstance(value, (list, tuple)) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    if not ok or not value:
        raise DataFormatError(f"{where}: expected 'persona_label'{of} as a list of ints, got {brief(value)}")
    label = tuple(value)
    if label == (-1,):
        return label
    if any(not 0 <= v < n_persona for v in label) or len(set(label)) != len(label):
        raise DataFormatError(
            f"{where}: expected 'persona_label'{of} as [-1] or distinct indices in 0..{n_persona - 1} "
            f"(persona has {n_persona} sentences), got {brief(list(label))}"
        )
    return label


@dataclass(frozen=True)
class Example:
    """One turn: the answering speaker's persona, the windowed history (oldest first) and the gold reply."""

    id: str
    persona: tuple[str, ...]
    history: tuple[str, ...]
    response: str
    persona_label: tuple[int, ...] | None = None  # (-1,) = uses no sentence; None = unlabelled
    partner_persona: tuple[str, ...] = ()
    candidates: tuple[str, ...] = ()
    dialogue_id: str = ""
    turn: int = 0
    source: str = ""
    split: str = ""

    def __post_init__(self) -> None:
        # Accept lists from callers but store tuples, so examples stay hashable and immutable.
        for name in ("persona", "history", "partner_persona", "candidates"):
            value = getattr(self, name)
            if isinstance(value, str) or not all(isinstance(s, str) for s in value):
                raise DataFormatError(f"Example.{name} ({self.id}): expected a list of strings, got {value!r:.80}")
            object.__setattr__(self, name, tuple(value))
        if not isinstance(self.response, str):
            raise DataFormatError(f"Example.response ({self.id}): expected a string, got {self.response!r:.80}")
        label = check_label(self.persona_label, len(self.persona), f"Example.persona_label ({self.id})")
        object.__setattr__(self, "persona_label", label)


@dataclass(frozen=True)
class Dialogue:
    """The examples of one dialogue, in turn order, with the personas they share."""

    id: str
    persona: tuple[str, ...]
    partner_persona: tuple[str, ...]
    turns: tuple[Example, ...] = field(default=())

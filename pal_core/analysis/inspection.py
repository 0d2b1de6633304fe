"""What the Inspector shows of a run's outputs rows: which fields the rows lack, one example's selector scores as
bars, and the whole run's selection against the gold labels (accuracy, confusion, per-label accuracy, errors).

Rows are the dicts of a run directory's outputs.jsonl as read (docs/interfaces.md). Only `id` and `response` are
always there; every other field may be missing (an upload need not carry `scores`), so nothing here indexes a row
directly. A selection is right by the `selection` metric's rule: the selected index (None and -1 = no sentence) is in
the gold label list ([-1] = none). Imports: pandas only."""

import pandas as pd

NONE = -1
# fields the Inspector uses beyond id/response, and what is lost without them
FIELDS = {
    "persona": "the persona sentences",
    "history": "the conversation",
    "scores": "the selector's scores (chart)",
    "selected_index": "the selected sentence (accuracy, confusion)",
    "gold_label": "the gold label (accuracy, confusion)",
    "reference": "the reference reply",
}


def missing_fields(rows: list[dict]) -> dict[str, int]:
    """Field -> number of rows lacking it (absent or null), for the FIELDS some row lacks."""
    out = {f: sum(1 for r in rows if r.get(f) is None) for f in FIELDS}
    return {f: n for f, n in out.items() if n}


def describe_missing(missing: dict[str, int], n_rows: int) -> str:
    """One sentence naming what the run's rows lack ("" when nothing)."""
    if not missing:
        return ""
    parts = [f"'{f}' in {n} of {n_rows} rows ({FIELDS[f]})" for f, n in missing.items()]
    return "This run's outputs lack " + "; ".join(parts) + ": what needs them is left out."


def label_name(index: int | None) -> str:
    """'#k' for 0-based persona index k-1, 'none' for no sentence (None or -1)."""
    return "none" if index is None or index < 0 else f"#{index + 1}"


def is_correct(selected: int | None, gold: list[int] | None) -> bool:
    """The `selection` metric's rule: the selection (None = -1, none) is one of the gold indices ([-1] = none)."""
    return (NONE if selected is None else selected) in (gold or [NONE])


def score_bars(row: dict) -> tuple[pd.DataFrame, int]:
    """One example's scores as bars {"sentence", "score", "role" (selected / gold / other)} over its options (each
    persona sentence, then none), and how many options the scores should cover (they may not line up)."""
    persona, scores = row.get("persona") or [], row.get("scores") or []
    names = [f"{i + 1}. {s}" for i, s in enumerate(persona)] + ["none"]
    selected = row.get("selected_index")
    selected = len(persona) if selected is None or selected < 0 else selected
    gold = [len(persona) if i < 0 else i for i in row.get("gold_label") or []]
    n = min(len(scores), len(names))
    roles = ["selected" if i == selected else "gold" if i in gold else "other" for i in range(n)]
    return pd.DataFrame({"sentence": names[:n], "score": scores[:n], "role": roles}), len(names)


def selection_frame(rows: list[dict]) -> pd.DataFrame:
    """One row per example with a gold label and a selection field: id, gold, selected, correct, response."""
    kept = [r for r in rows if r.get("gold_label") and "selected_index" in r]
    return pd.DataFrame(
        {
            "id": [r["id"] for r in kept],
            "gold": [label_name(r["gold_label"][0]) for r in kept],
            "selected": [label_name(r["selected_index"]) for r in kept],
            "correct": [is_correct(r["selected_index"], r["gold_label"]) for r in kept],
            "response": [r.get("response", "") for r in kept],
        },
        columns=["id", "gold", "selected", "correct", "response"],
    )


def label_order(frame: pd.DataFrame) -> list[str]:
    """The labels of a selection_frame, #1, #2, ... then none."""
    return sorted(set(frame["gold"]) | set(frame["selected"]), key=lambda x: (x == "none", len(x), x))


def confusion(frame: pd.DataFrame) -> pd.DataFrame:
    """Gold (rows) x selected (columns) counts of a selection_frame, one cell per label pair (label_order)."""
    order = label_order(frame)
    return pd.crosstab(frame["gold"], frame["selected"]).reindex(index=order, columns=order, fill_value=0)


def accuracy_by_label(frame: pd.DataFrame) -> pd.DataFrame:
    """Accuracy and n per gold label of a selection_frame, in label order."""
    table = frame.groupby("gold")["correct"].agg(["mean", "size"]).rename(columns={"mean": "accuracy", "size": "n"})
    return table.reindex([o for o in label_order(frame) if o in table.index])

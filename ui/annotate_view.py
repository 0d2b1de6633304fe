"""The Annotate page's answer widgets: one keyed button per answer (nothing chosen at first), each reply with its
questions, and the style that marks a chosen answer (not the red of Submit, and a check mark, not colour alone)."""

import streamlit as st

from ui import annotate, keys
from ui.render import show_long_text

SUGGEST_AT = 0.5  # the consistency model's contradiction probability from which it suggests "contradicts"
CHOSEN_BG, CHOSEN_FG = "#1d3f8f", "#ffffff"  # contrast 10.2:1; Submit keeps the theme's primary red
_ANSWER_CONTAINERS = ", ".join(
    f'.st-key-{keys.PANEL_KEY} [class*="st-key-annotate_{name}_"] button[data-testid="stBaseButton-primary"]'
    for name in ("preference", *sorted(annotate.FIELDS))
)
CHOSEN_STYLE = f"""<style>
{_ANSWER_CONTAINERS} {{
  background-color: {CHOSEN_BG}; border-color: {CHOSEN_BG}; color: {CHOSEN_FG};
  outline: 2px solid {CHOSEN_BG}; outline-offset: 2px;
}}
{_ANSWER_CONTAINERS.replace('-primary"]', '-primary"]::before')} {{ content: "✓\\00a0"; }}
</style>"""


def choice_buttons(where, name: str, options: list, labels: list[str], shortcuts: list) -> None:
    """One button per option (primary = chosen); clicking or its key sets the answer, nothing is chosen at first."""
    row = where.container(horizontal=True)
    for value, label, shortcut in zip(options, labels, shortcuts, strict=True):
        row.button(
            label,
            key=f"annotate_{name}_{value}",
            shortcut=shortcut,
            type="primary" if annotate.is_chosen(st.session_state, name, value) else "secondary",
            on_click=annotate.answer,
            args=(st.session_state, name, value),
        )


def _suggestion(side: str, item: dict) -> None:
    """The consistency model's suggestion for this reply, applied only when accepted (its own key)."""
    scores = item[f"contradiction_{side}"] or []
    if not scores:
        return
    top = max(scores)
    suggestion = top >= SUGGEST_AT
    st.caption(
        f"The consistency model suggests: {'contradicts' if suggestion else 'does not contradict'} "
        f"(contradiction probability {top:.2f}). Not applied until you accept it."
    )
    st.button(
        "Accept the suggestion",
        key=f"annotate_accept_{side}",
        shortcut=keys.side_key(keys.ACCEPT_KEY, side),
        on_click=annotate.answer,
        args=(st.session_state, f"contradiction_{side}", suggestion),
    )


def reply_column(desk: annotate.Desk, side: str, item: dict) -> None:
    """One reply (long text collapsed) and the per-reply questions the project asks."""
    persona, text = item["persona"], item[f"response_{side}"]
    box = st.container(border=True)
    box.caption(f"Response {side.upper()}")
    show_long_text(text, key=f"annotate_all_{side}_{item['item_id']}", where=box)
    for question in desk.project["questions"]:
        st.caption(keys.QUESTION_TITLES[question])
        name = f"{question}_{side}"
        if question in keys.RATING_KEYS:
            shortcuts = [keys.side_key(k, side) for k in keys.RATING_KEYS[question]]
            choice_buttons(st, name, [1, 2, 3, 4, 5], ["1", "2", "3", "4", "5"], shortcuts)
        elif question == "persona_used":
            options = [-1, *range(len(persona))]
            labels = ["none"] + [str(k + 1) for k in range(len(persona))]
            shortcuts = [keys.side_key(k, side) for k in keys.PERSONA_KEYS]
            shortcuts += [None] * (len(options) - len(shortcuts))  # beyond 5 sentences: mouse only
            choice_buttons(st, name, options, labels, shortcuts[: len(options)])
        elif question == "contradiction":
            shortcuts = [keys.side_key(keys.CONTRADICTION_KEYS[v], side) for v in (True, False)]
            choice_buttons(st, name, [True, False], ["contradicts", "does not"], shortcuts)
            _suggestion(side, item)


def my_judgements(desk: annotate.Desk, rows: list[dict], limit: int = 50) -> None:
    """The user's own judgements in the project, each with an Edit button that reopens it."""
    if not rows:
        st.text("None yet.")
    for row in rows[:limit]:
        preference = keys.PREFERENCE_LABELS[annotate.shown_preference(row, desk.user)]
        cols = st.columns([4, 1], vertical_alignment="center")
        cols[0].text(f"Item {row['item_id']} · dialogue {row['dialogue_id']} · {preference}")
        cols[1].button(
            "Edit",
            key=f"annotate_edit_{row['judgement_id']}",
            on_click=annotate.act,
            args=(st.session_state, desk, annotate.reopen(desk, row["judgement_id"])),
        )


def show_chosen_style() -> None:
    st.html(CHOSEN_STYLE)

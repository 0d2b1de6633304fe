"""The annotate page's keyboard: one key per answer, listed on the page, and a guard for the keys the browser would
otherwise act on. Inside the item's panel Enter / Space / arrows never press the focused button (a key press does only
what the list says, whatever has focus) and Enter in the Reason box submits; outside the panel Enter is the focused
control's own (an expander opens, Edit reopens, a link is followed) and never Submit. Mouse clicks are untouched."""

import streamlit as st

PANEL_KEY = "annotate_panel"  # st.container key: Streamlit gives the panel the class st-key-annotate_panel
PREFERENCE_KEYS = {"A": "1", "B": "2", "tie": "3", "both_bad": "4"}
PREFERENCE_LABELS = {"A": "A is better", "B": "B is better", "tie": "Tie", "both_bad": "Both bad"}
# Per-reply keys: reply A on plain keys, reply B on Shift + the same key. Streamlit reserves C and R.
RATING_KEYS = {
    "consistency": ("a", "s", "d", "f", "g"),  # ratings 1..5
    "fluency": ("6", "7", "8", "9", "0"),
    "engagingness": ("y", "u", "i", "o", "p"),
}
PERSONA_KEYS = ("z", "x", "v", "b", "n", "m")  # none, then persona sentences 1..5
CONTRADICTION_KEYS = {True: "q", False: "w"}  # contradicts / does not
ACCEPT_KEY = "e"  # accept the consistency model's contradiction suggestion
SUBMIT_KEY, SKIP_KEY, UNDO_KEY = "Enter", "k", "Backspace"
SUBMIT_BUTTON_KEY = "annotate_submit"  # the Submit button's widget key (Enter in the Reason box presses it)
QUESTION_TITLES = {
    "consistency": "Persona consistency (1 = contradicts, 5 = fully consistent)",
    "persona_used": "Persona sentence it uses",
    "contradiction": "Contradicts the persona?",
    "fluency": "Fluency (1-5)",
    "engagingness": "Engagingness (1-5)",
}

_GUARD = f"""<script>
(() => {{
  if (window.__palKeyGuard) return;
  window.__palKeyGuard = true;
  const PANEL = ".st-key-{PANEL_KEY}";
  const SUBMIT = ".st-key-{SUBMIT_BUTTON_KEY} button";
  // Keys the browser would turn into a click or a value change on the focused control.
  const NATIVE = new Set(["Enter", " ", "Spacebar", "ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"]);
  const typing = (target) => target.closest("input, textarea, [contenteditable=true]");
  const guard = (event) => {{
    const target = event.target;
    if (!(target instanceof Element) || !NATIVE.has(event.key)) return;
    if (!target.closest(PANEL) || typing(target)) return;  // typing stays typing
    event.preventDefault();  // Streamlit's shortcut handler still sees the key: only the native action is dropped
  }};
  document.addEventListener("keydown", guard, true);
  document.addEventListener("keyup", guard, true);
  // Streamlit's shortcuts listen on document (bubbling); this listener on the root element runs just before them,
  // after the focused control's own handlers.
  document.documentElement.addEventListener("keydown", (event) => {{
    const target = event.target;
    if (event.key !== "Enter" || event.ctrlKey || event.metaKey || event.altKey || event.shiftKey) return;
    if (!(target instanceof Element) || target === document.body || target === document.documentElement) return;
    if (!target.closest(PANEL)) {{
      event.stopPropagation();  // not Submit: the browser's own Enter on the focused control still happens
    }} else if (typing(target) && !event.isComposing) {{
      // the Reason box has taken its text on this Enter: submit after that (a click, as the mouse would)
      setTimeout(() => document.querySelector(SUBMIT)?.click(), 0);
    }}
  }});
}})();
</script>"""


def side_key(key: str, side: str) -> str:
    """The shortcut of a per-reply key for side "a" (the key) or "b" (Shift + the key)."""
    return key if side == "a" else f"Shift+{key}"


def guard_script_text() -> str:
    """The guard's JavaScript. Streamlit's HTML sanitizer (DOMPurify) drops a script whose text holds "<" before a
    letter, "/" or "!", so the text never does (tests/pages/test_annotate_state.py)."""
    return _GUARD.removeprefix("<script>").removesuffix("</script>")


def install_key_guard() -> None:
    """Add the key guard to the page (once per browser tab)."""
    st.html(_GUARD, unsafe_allow_javascript=True)


def key_table(questions: list[str], n_persona: int) -> list[dict]:
    """Rows {"answer", "reply A", "reply B"} listing every key of the page, for the questions asked and an item
    whose persona has `n_persona` sentences (keys only for those, at most PERSONA_KEYS)."""
    rows = [{"answer": PREFERENCE_LABELS[p], "reply A": k, "reply B": ""} for p, k in PREFERENCE_KEYS.items()]
    for question in questions:
        if question in RATING_KEYS:
            keys = RATING_KEYS[question]
            rows.append(
                {
                    "answer": f"{question} 1-5",
                    "reply A": " ".join(k.upper() for k in keys),
                    "reply B": "Shift + " + " ".join(k.upper() for k in keys),
                }
            )
        elif question == "persona_used":
            keys = PERSONA_KEYS[: n_persona + 1]
            listed = " ".join(k.upper() for k in keys)
            n = len(keys) - 1  # sentences with a key
            numbers = "" if n == 0 else ", 1" if n == 1 else f", 1-{n}"
            rows.append(
                {"answer": f"persona sentence: none{numbers}", "reply A": listed, "reply B": f"Shift + {listed}"}
            )
        elif question == "contradiction":
            for value, label in ((True, "contradicts"), (False, "does not contradict")):
                key = CONTRADICTION_KEYS[value].upper()
                rows.append({"answer": label, "reply A": key, "reply B": f"Shift + {key}"})
            rows.append(
                {"answer": "accept the model's suggestion", "reply A": "E", "reply B": f"Shift + {ACCEPT_KEY.upper()}"}
            )
    rows += [
        {"answer": "submit (only a complete answer)", "reply A": "Enter", "reply B": ""},
        {"answer": "skip this item", "reply A": SKIP_KEY.upper(), "reply B": ""},
        {"answer": "undo the last judgement", "reply A": UNDO_KEY, "reply B": ""},
    ]
    return rows

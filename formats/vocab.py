"""The shared vocabularies, defined once: roles and their ranks, the lowest role of each page, the preference
answers, the per-reply questions and which of them are 1-5 ratings. db/, pal_core/ and ui/ import them from here."""

# Each role may do what the ones below it may; researcher: exports judgements and starts training runs.
ROLES = ("admin", "researcher", "annotator", "viewer")
ROLE_RANK = {"viewer": 0, "annotator": 1, "researcher": 2, "admin": 3}

# The lowest role that may open each page (ui/nav.py lists them, each page's require_role call checks it).
PAGE_MIN_ROLE = {
    "pages/1_Annotate.py": "annotator",
    "pages/2_Inspector.py": "viewer",
    "pages/3_Leaderboard.py": "viewer",
    "pages/4_Agreement.py": "researcher",
    "pages/5_Export_and_train.py": "viewer",
    "pages/6_Playground.py": "annotator",
    "pages/7_Admin.py": "admin",
    "pages/8_Report.py": "viewer",
}

# The answer to "which reply is better?", always asked; tie and both_bad name no winner.
PREFERENCES = ("A", "B", "tie", "both_bad")
NO_WINNER = ("tie", "both_bad")
# Per-reply questions a project may ask (each answered for reply A and reply B), those asked by default, and the
# ones answered on a 1-5 scale (the others are yes/no).
QUESTIONS = ("consistency", "persona_used", "contradiction", "fluency", "engagingness")
DEFAULT_QUESTIONS = ("consistency", "persona_used", "contradiction")
RATINGS = ("consistency", "fluency", "engagingness")


def has_rank(role: str, minimum: str) -> bool:
    """Whether `role` may do what `minimum` may (viewer < annotator < researcher < admin)."""
    return ROLE_RANK[role] >= ROLE_RANK[minimum]

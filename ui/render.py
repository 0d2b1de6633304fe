"""Rendering helpers the pages share. Dialogue text, ids and names are user data: they are shown with `st.text`
(no Markdown, no HTML), Markdown-escaped (`md`) where Streamlit only takes Markdown (captions, expander titles,
alerts), or HTML-escaped (`chart_label`, `highlight_overlap`) before any markup of ours is added around them."""

import html
import re
import string

import streamlit as st

from db import store
from ui.resources import read_only

_WORD = re.compile(r"[A-Za-z0-9']+")
STOPWORDS = frozenset(
    "a an the i im i'm my me you your is am are was be to of and or in on at for with it that this do have has "
    "so but just not no yes what how".split()
)


LONG_TEXT = 1200  # characters shown before "show all": keeps the answer buttons near the top of the page
_MD_SPECIAL = frozenset(string.punctuation)


def md(text: object) -> str:
    """`text` as literal Markdown: every ASCII punctuation character backslash-escaped (CommonMark allows it for all
    of them), so `**x**`, `[l](javascript:...)`, `<a href>`, `:red[x]` and `$x$` all show as typed."""
    out = "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in str(text))
    return out.replace("\n", "  \n")


def show_long_text(text: str, *, key: str, where=None, limit: int = LONG_TEXT) -> None:
    """Plain text, cut at `limit` characters with a "show all" expander holding the rest (never Markdown)."""
    where = where or st
    if len(text) <= limit:
        where.text(text)
        return
    where.text(text[:limit] + " …")
    with where.expander(f"Show all ({len(text):,} characters)", key=key):
        st.text(text)


def show_lines(title: str, lines: list[str], *, numbered: bool = True) -> None:
    """A caption and the lines as one plain-text block (never interpreted as Markdown or HTML; one element, so
    a page that redraws it often sends little)."""
    st.caption(title)
    st.text("\n".join(f"{i}. {line}" if numbered else line for i, line in enumerate(lines, start=1)) or "(none)")


def show_history(history: list[str]) -> None:
    """The dialogue history, oldest first, speakers alternating so the last line is the partner's."""
    n = len(history)
    speakers = ["Partner" if (n - i) % 2 == 1 else "You" for i in range(n)]
    show_lines(
        "Conversation (oldest first)",
        [f"{who}: {line}" for who, line in zip(speakers, history, strict=True)],
        numbered=False,
    )


def content_words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text) if w.lower() not in STOPWORDS}


def highlight_overlap(text: str, sentence: str | None) -> str:
    """`text` HTML-escaped, with the words it shares with `sentence` wrapped in <mark>."""
    shared = content_words(sentence or "")
    out, last = [], 0
    for m in _WORD.finditer(text):
        out.append(html.escape(text[last : m.start()]))
        word = html.escape(m.group(0))
        out.append(f"<mark>{word}</mark>" if m.group(0).lower() in shared else word)
        last = m.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


def chart_label(text: str, width: int = 48) -> str:
    """A short, escaped label for chart axes (plotly reads a few HTML tags in labels)."""
    short = text if len(text) <= width else text[: width - 1] + "…"
    return html.escape(short)


def pick_project(actor: str, key: str) -> dict | None:
    """A project selectbox; None (with a note) when there is no project yet."""
    with read_only() as session:  # no write lock (db.session.read_session)
        projects = store.list_projects(session, actor=actor)
    if not projects:
        st.info("No project yet: an admin creates one on the Admin page.")
        return None
    by_id = {p["id"]: p for p in projects}
    chosen = st.selectbox("Project", list(by_id), format_func=lambda i: by_id[i]["name"], key=key)
    return by_id[chosen]

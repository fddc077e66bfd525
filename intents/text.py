"""Text for people to read in one line: summaries, error excerpts, schema descriptions.

One helper for "collapse whitespace, cut, mark the cut with an ellipsis", shared by the gateway, the
workflows and the activities (it used to be written three times, with three small differences).
"""

from __future__ import annotations

ELLIPSIS = "…"


def one_line(text: str, limit: int) -> str:
    """Whitespace runs collapsed to single spaces; cut to at most `limit` characters, the cut marked."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + ELLIPSIS


def quote_short(text: str, limit: int = 60) -> str:
    """A user's text inside a summary: on one line, short, in quotes."""
    return f'"{one_line(text, limit)}"'


def truncate_utf8(text: str, max_bytes: int) -> str:
    """Cut to at most max_bytes of UTF-8 (the Web UI's summary limit), marking the cut."""
    raw = text.encode()
    if len(raw) <= max_bytes:
        return text
    return raw[: max_bytes - len(ELLIPSIS.encode())].decode(errors="ignore") + ELLIPSIS

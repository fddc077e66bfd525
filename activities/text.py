"""Tokenising shared by the offline embedder and keyword ranking (pure, deterministic)."""

from __future__ import annotations

import re

_WORD = re.compile(r"[0-9a-zA-Z\u00C0-\uFFFF]+(?:['’][a-z]+)?")

STOPWORDS = frozenset(
    """a an and are as at be been but by can could did do does for from had has have how i i'm if in
    into is it its me my of on or our she he so than that the their them then there these they this
    to was we were what when where which who whom why will with would you your yours about any all
    just not no yes also very much more most some such only own same too""".split()
)


def stem(word: str) -> str:
    """A deliberately tiny suffix stripper: 'preferences' ~ 'preference' ~ 'prefer'."""
    for suffix in ("ences", "ence", "ings", "ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def terms(text: str) -> list[str]:
    """Lower-cased, stop-word-free, stemmed terms, in order."""
    out = []
    for match in _WORD.finditer(text.lower()):
        word = match.group(0).replace("’", "'")
        if word in STOPWORDS or len(word) < 2:
            continue
        out.append(stem(word))
    return out


def words(text: str) -> list[str]:
    """Lower-cased, stop-word-free words, unstemmed and without repeats: what a full-text engine with its
    own stemmer (the lexical index's porter tokenizer) should be asked for. Single digits count ("rack 7")."""
    out: list[str] = []
    for match in _WORD.finditer(text.lower()):
        word = match.group(0).replace("’", "'")
        if word in STOPWORDS or (len(word) < 2 and not word.isdigit()) or word in out:
            continue
        out.append(word)
    return out

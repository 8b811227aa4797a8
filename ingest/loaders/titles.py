"""A document title that means something, shared by every loader.

A title travels with each chunk (embedding, full-text header, citations), so a filing number
("0000320193-23-000077"), a file name or "Microsoft Word - x.doc" in the metadata makes every
chunk of the document anonymous. `choose_title` takes the metadata title only when it looks
like a title, else the first candidate from the text (a heading, the first page's prominent
line) that does, else the file's stem.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import chain

MAX_TITLE_CHARS = 200
_MIN_CHARS = 4
_MIN_LETTERS = 3
# What authoring tools write when nobody gave a title.
_TOOL_TITLE = re.compile(
    r"^(microsoft\s+(word|excel|powerpoint)\b|untitled\b|document\s*\d*$"
    r"|presentation\s*\d*$|powerpoint presentation$|slide\s*\d+$|book\s*\d+$|sheet\s*\d+$)",
    re.IGNORECASE,
)
# A file name: ends in a short extension of letters ("report.docx", "scan_001.pdf").
_FILE_NAME = re.compile(r"^\S+\.[A-Za-z][A-Za-z0-9]{1,4}$")


def clean_title(raw: str | None) -> str:
    """One line, runs of blanks as one space, NULs gone, at most MAX_TITLE_CHARS."""
    text = " ".join((raw or "").replace("\x00", "").split())
    return text[:MAX_TITLE_CHARS].strip()


def looks_like_title(text: str | None, stem: str = "") -> bool:
    """Whether a (cleaned) string names a document: long enough, made mostly of letters, not a
    tool's placeholder, not a file name, not the file's own stem."""
    if not text or len(text) < _MIN_CHARS:
        return False
    letters = sum(ch.isalpha() for ch in text)
    digits = sum(ch.isdigit() for ch in text)
    if letters < _MIN_LETTERS or digits > letters:
        return False
    if _TOOL_TITLE.match(text) or _FILE_NAME.match(text):
        return False
    return not (stem and text.casefold() == stem.casefold())


def first_title_line(text: str, stem: str = "", max_lines: int = 12) -> str | None:
    """The first of the first `max_lines` non-empty lines that looks like a title."""
    seen = 0
    for line in text.splitlines():
        line = clean_title(line)
        if not line:
            continue
        if looks_like_title(line, stem):
            return line
        seen += 1
        if seen >= max_lines:
            break
    return None


def choose_title(metadata: str | None, candidates: Iterable[str | None], stem: str) -> str:
    """The metadata title if it looks like one, else the first candidate that does (taken in
    order, lazily), else the stem."""
    for candidate in chain((metadata,), candidates):
        title = clean_title(candidate)
        if looks_like_title(title, stem):
            return title
    return clean_title(stem) or "untitled"

"""What a question asks for, and whether a sentence holds something of that kind: "how many"
wants a number, "when" a date or year, "who" a name, "where" a place name. A feature of the
quote's score (rag/quotes.py), by patterns only: the sentence that answers holds the kind of
thing asked for, which neither the embedding nor the shared words see.
"""

from __future__ import annotations

import re

_NUMBER_QUESTION = re.compile(
    r"\bhow (?:many|much|long|old|far|large|big|tall|high|often|fast|heavy)\b"
    r"|\bwhat (?:percentage|percent|number|amount|fraction|proportion)\b",
    re.IGNORECASE,
)
_DATE_QUESTION = re.compile(
    r"\bwhen\b|\b(?:what|which) (?:year|century|decade|date|month|day|time|period|era)\b"
    r"|\bin what year\b",
    re.IGNORECASE,
)
_PERSON_QUESTION = re.compile(r"\bwho(?:m|se)?\b", re.IGNORECASE)
_PLACE_QUESTION = re.compile(
    r"\bwhere\b|\b(?:what|which) (?:country|city|state|place|region|continent|town|area|island)\b",
    re.IGNORECASE,
)
_NUMBER_WORD_LIST = (
    "one two three four five six seven eight nine ten eleven twelve fifteen twenty thirty "
    "forty fifty hundred hundreds thousand thousands million millions billion dozen half "
    "once twice"
)
_NUMBER_WORDS = frozenset(_NUMBER_WORD_LIST.split())
_DIGIT = re.compile(r"\d")
_DATE = re.compile(
    r"\b(?:1\d{3}|20\d{2})s?\b|\b\d+(?:st|nd|rd|th)\b|\bcentur(?:y|ies)\b"
    r"|\b(?:January|February|March|April|May|June|July|August|September|October|November"
    r"|December)\b"
)
_CAPITALIZED = re.compile(r"\b[A-Z][\w'’-]+")
_WORD = re.compile(r"[^\W\d_]+")


def asked_type(question: str) -> str | None:
    """ "number", "date", "person", "place", or None (a question of another kind)."""
    if _NUMBER_QUESTION.search(question):
        return "number"
    if _DATE_QUESTION.search(question):
        return "date"
    if _PERSON_QUESTION.search(question):
        return "person"
    if _PLACE_QUESTION.search(question):
        return "place"
    return None


def holds_type(kind: str | None, text: str, question: str) -> bool:
    """Whether `text` holds a thing of `kind` (asked_type) that the question does not name."""
    if kind == "number":
        words = {w.lower() for w in _WORD.findall(text)}
        return bool(_DIGIT.search(text)) or bool(words & _NUMBER_WORDS)
    if kind == "date":
        return bool(_DATE.search(text))
    if kind in ("person", "place"):
        asked = {w.lower() for w in _WORD.findall(question)}
        names = _CAPITALIZED.findall(text)
        if names and text.startswith(names[0]):
            names = names[1:]  # the first word is capitalized anyway
        return any(name.lower() not in asked for name in names)
    return False

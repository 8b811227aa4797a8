"""Fixes for the small spaCy model's PERSON spans.

* `expand`: it often tags only the surname ("Ana [Souza]"), which would leave the first name
  in the text. A one-word PERSON span grows over an adjacent capitalized proper noun (PROPN)
  on the same line.
* `looks_common`: it tags sentence-initial capitalized common nouns ("Screens must be
  locked", "Git is ...") as PERSON. A span whose every word also occurs in the same text in
  lowercase is a common word used at a sentence start, not a name.
* `only_everyday_words`: the same mistake judged with a dictionary instead of the text:
  every word is a common English word and none is a given name ("Discipline", "Cautionary
  Tales" go; "Will Smith", "Rose" stay).
"""

from __future__ import annotations

import re

from rag.privacy.recognizers.word_lists import common_words, given_names

_WORD = re.compile(r"[^\W\d_]+")


def expand(start: int, end: int, doc, lowercase: set[str]) -> tuple[int, int]:
    """A one-word PERSON span grows by one capitalized PROPN token on each side that is not
    also a common word of the text (lowercase somewhere in it): "Ana [Souza]" -> "Ana Souza".
    Spans of two words or more are whole names already ("Contact Priya Raman" stays put)."""
    if doc is None:
        return start, end
    span = doc.char_span(start, end, alignment_mode="expand")
    if span is None or len(span) != 1:
        return start, end
    i, j = span.start, span.end
    grow_left = i > 0 and _name_like(doc[i - 1], lowercase) and "\n" not in doc[i - 1].whitespace_
    grow_right = (
        j < len(doc) and _name_like(doc[j], lowercase) and "\n" not in doc[j - 1].whitespace_
    )
    if grow_left or grow_right:
        # Part of speech is made on first read (nlp_engine.py), so only where it decides.
        from rag.privacy.nlp_engine import complete  # spaCy only once a doc is at hand

        doc = complete(doc)
        if grow_left and doc[i - 1].pos_ == "PROPN":
            i -= 1
        if grow_right and doc[j].pos_ == "PROPN":
            j += 1
    return doc[i].idx, doc[j - 1].idx + len(doc[j - 1].text)


def _name_like(token, lowercase: set[str]) -> bool:
    """A capitalized word that is not a common word of the text (part of speech aside)."""
    text = token.text
    return (
        text.lower() not in lowercase
        and text[:1].isupper()
        and text[1:].islower()
        and text.isalpha()
        and len(text) > 1
    )


def lowercase_words(text: str) -> set[str]:
    """Standalone lowercase words ("priya.raman@example.com" gives none: not a word)."""
    words = (w.strip(".,;:!?()[]\"'") for w in text.split())
    return {w for w in words if w.isalpha() and w.islower()}


def looks_common(value: str, lowercase: set[str]) -> bool:
    words = _WORD.findall(value)
    return bool(words) and all(w.lower() in lowercase for w in words)


def only_everyday_words(value: str) -> bool:
    words = _WORD.findall(value)
    common, given = common_words(), given_names()
    return bool(words) and all(w.lower() in common and w.title() not in given for w in words)

"""An answer's names and numbers as its prompt prints them: the rule of constrained decoding.

A small model invents facts: "The answer is: 2" where the source says 27 days, "Rollo of
Northumbria" where it says Rollo. Under this rule every word of the answer that holds a capital
letter or a digit, and every pseudonym, is one the prompt holds (or a common word that opens a
sentence); other words, punctuation and citation marks stay free. The model still chooses what
to say; it cannot state a name or a figure that nobody wrote. A backend applies `StatedFacts`
while it generates (rag/llm/llama_facts.py), so a word that breaks it is never chosen.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable

# Words as the prompt holds them: a pseudonym whole, else letters, digits and the marks that
# stay inside a word ("Saint-Clair-sur-Epte", "30,000", "O'Neill", "AT&T", "U.S.").
_WORD = re.compile(r"<[A-Z_]+_[0-9a-f]+>|[\w'’&.,-]*\w")
_FACT = re.compile(r"[A-Z<]|\d")
# A source's number in the prompt ("[2] ...") is a citation mark, not a figure to state.
_CITATION_MARK = re.compile(r"\[\d+\]")
# Capitalized words any answer may open a sentence with, whatever its prompt holds.
SENTENCE_OPENERS = (
    *("A", "According", "After", "All", "Also", "An", "And", "As", "At", "Because", "Before"),
    *("Both", "But", "By", "During", "Each", "For", "From", "He", "Her", "His", "However", "I"),
    *("If", "In", "It", "Its", "No", "Not", "Of", "On", "One", "Only", "Since", "She", "So"),
    *("Some", "That", "The", "Their", "There", "These", "They", "This", "Those", "To", "Under"),
    *("We", "What", "When", "Where", "Which", "While", "Who", "With", "Yes", "You"),
)
# Between two words of an answer (a word runs up to one of these); a line break ends nothing
# and is not allowed: the answer is one short text.
_BETWEEN_MARKS = ' \t()"“”:;!?/–—'
_BETWEEN = re.compile(f"[{re.escape(_BETWEEN_MARKS)}]+")
_OPENING = "'‘$€£"  # marks a word may start with ("$5", "'Norman'")
_CLOSING = ".,'’%"  # ... and end with ("911,", "5%", "U.S.")
_LOWER_LETTERS = "a-zß-öø-ÿ"  # a regex class's ranges: ASCII and Latin-1 lower case
_LOWER = re.compile(f"[{_LOWER_LETTERS}][{_LOWER_LETTERS}'’.-]*")  # "e.g", "well-known", "don't"
_CITE = re.compile(r"\[[0-9]{1,2}\]")  # [0-9], not \d: a citation's digits are ASCII
_CITE_START = re.compile(r"\[[0-9]{0,2}\]?")
_POSSESSIVE = re.compile(r"(.+)['’]s")
# The characters beyond ASCII the patterns above allow, read off them.
_ALLOWED_BEYOND_ASCII = frozenset(
    c for c in map(chr, range(0x80, 0x100)) if re.fullmatch(f"[{_LOWER_LETTERS}]", c)
) | {c for c in _BETWEEN_MARKS + _OPENING + _CLOSING if ord(c) > 127}


def facts_in(texts: Iterable[str]) -> list[str]:
    """The words of `texts` that hold a capital letter or a digit, and the pseudonyms, each
    once, in the order first seen: what an answer may state as a fact."""
    seen: dict[str, None] = {}
    for text in texts:
        for word in _WORD.findall(_CITATION_MARK.sub(" ", text)):
            word = word.rstrip(".,")
            # "Rollo's" and "Saint-Clair-sur-Epte" in the prompt: "Rollo", "Saint-Clair" too.
            base = re.sub(r"['’]s$", "", word)
            for form in (word, base, *base.split("-")):
                if form and _FACT.search(form):
                    seen.setdefault(form, None)
    return list(seen)


class StatedFacts:
    """Whether an answer, or the start of one, states only the given facts."""

    def __init__(self, facts: Iterable[str]) -> None:
        self._words = frozenset([*facts, *SENTENCE_OPENERS])
        self._sorted = sorted(self._words)
        # What a character split over several tokens may turn out to be (rag/llm/llama_facts.py).
        self.beyond_ascii = sorted(
            _ALLOWED_BEYOND_ASCII | {c for word in self._words for c in word if ord(c) > 127}
        )

    def allows(self, text: str) -> bool:
        """Whether `text` can still become an allowed answer: every finished word allowed,
        the last one (still being written) the start of an allowed word."""
        if "\n" in text:
            return False
        *finished, last = _BETWEEN.split(text)
        return all(self._word(w.strip(_OPENING)) for w in finished) and self._started(last)

    def ends(self, text: str) -> bool:
        """Whether the answer may end after `text`: its last word finished and allowed."""
        last = _BETWEEN.split(text)[-1]
        return self.allows(text) and self._word(last.strip(_OPENING))

    @staticmethod
    def unfinished(text: str) -> str:
        """`text` from its last word on: once `text` is allowed, `allows(text + more)` is
        `allows(unfinished(text) + more)` (the words before it are finished and allowed), so a
        generation checks each candidate token against a few characters, not the whole answer."""
        cut = max((m.end() for m in _BETWEEN.finditer(text)), default=0)
        return text[cut:]

    def _word(self, word: str) -> bool:
        word = word.rstrip(_CLOSING)  # nothing left: punctuation alone ("." after a bracket)
        if not word or word in self._words or _LOWER.fullmatch(word) or _CITE.fullmatch(word):
            return True
        possessive = _POSSESSIVE.fullmatch(word)
        if possessive and self._word(possessive.group(1)):
            return True
        parts = word.split("-")
        return len(parts) > 1 and all(part and self._word(part) for part in parts)

    def _started(self, word: str) -> bool:
        word = word.lstrip(_OPENING)
        if not word or self._word(word) or self._begins_a_word(word):
            return True
        if _LOWER.fullmatch(word) or _CITE_START.fullmatch(word):
            return True
        if word[-1] in "'’" and self._word(word[:-1]):
            return True  # "Rollo'" on its way to "Rollo's"
        parts = word.split("-")
        return (
            len(parts) > 1
            and all(part and self._word(part) for part in parts[:-1])
            and self._started(parts[-1])
        )

    def _begins_a_word(self, start: str) -> bool:
        at = bisect.bisect_left(self._sorted, start)
        return at < len(self._sorted) and self._sorted[at].startswith(start)

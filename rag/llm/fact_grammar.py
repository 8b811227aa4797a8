"""An answer's names and numbers as its prompt prints them: a grammar for constrained decoding.

A small model invents facts: "The answer is: 2" where the source says 27 days, "Rollo of
Northumbria" where it says Rollo. With this grammar (llama.cpp's GBNF) every word that holds a
capital letter or a digit, and every pseudonym, must be one the prompt holds, or a common word
that opens a sentence; other words, punctuation and citation marks stay free. The model still
chooses what to say; it cannot state a name or a figure that nobody wrote.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Words as the grammar sees them: a pseudonym whole, else letters, digits and the marks that
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
# Between two words: spaces and punctuation, never a line break (one short answer).
_SEPARATOR = r"[ ,.;:!?()\"'’“”%$€£/&+=*–—-]"


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


def fact_grammar(facts: Iterable[str]) -> str:
    """A GBNF grammar: words and separators, where a word is lower-case, a citation mark
    ("[2]"), or one of `facts` (and SENTENCE_OPENERS)."""
    allowed = dict.fromkeys([*facts, *SENTENCE_OPENERS])
    literals = " | ".join(_literal(word) for word in allowed)
    return "\n".join(
        [
            "root ::= sep? word (sep word)* sep?",
            f"sep ::= {_SEPARATOR}+",
            "word ::= lower | cite | fact",
            r"lower ::= [a-zß-öø-ÿ] [a-zß-öø-ÿ'’-]*",
            r'cite ::= "[" [1-9] [0-9]? "]"',
            f"fact ::= {literals}",
        ]
    )


def _literal(word: str) -> str:
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'

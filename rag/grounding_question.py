"""The grounding check's second half: does a sentence's fact stand with what the question asks?

A name or figure copied from the passages is no support when it comes from a sentence about
something else: "Who ruled the duchy?" answered with a name the passage gives for another
role. So a sentence's facts (names, numbers, dates the question does not give) and the new
words it adds must stand together in one passage sentence (or table row) that is on the
question: one holding at least ABOUT_SHARE of the question's content words (each weighed by
its rarity among the passages' sentences), or a sentence of a quote (rag/quotes.py: the
sentences chosen as answering the question). And an answer to a question that asks for a
number, date, person or place must state one (rag/answer_types.py).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from rag.answer_types import asked_type, holds_type
from rag.db.fulltext.base import STOPWORDS
from rag.text_units import content_stems, stem

ABOUT_SHARE = 0.3  # of the question's weighed content words, for a sentence to be on it
WORD_SHARE = 0.5  # of the sentence's new content words that must stand there too
FACTS_TOGETHER = False  # all of a sentence's facts in one passage sentence (else each in one)
BEST_SHARE = 0.5  # ... and at least this share of what the best sentence holds
QUOTES_ON_TOPIC = True  # a quoted sentence is on the question whatever words it shares
ROOT_CHARS = 6  # a word's first letters compared (a crude stem: the stemmer keeps "rul"/"rule")
_CAPITALIZED = re.compile(r"\b[A-Z][\w'’-]*")
_WORD = re.compile(r"[^\W\d_]+")
_DIGIT = re.compile(r"\d")
_WH = re.compile(r"\b(?:what|which|who|whom|whose|when|where|how|why)\b", re.IGNORECASE)
_NOTHING = "says nothing the question does not: no answer"
_KIND_SHOWN = {"number": "number", "date": "date", "person": "name", "place": "place"}
# An answer that says it found nothing states nothing to check.
_REFUSAL = re.compile(
    r"could not find|couldn't find|cannot find|can't find|not (?:in|mentioned in) the "
    r"(?:documents|sources)|do(?:es)? not (?:contain|mention|say|provide)",
    re.IGNORECASE,
)
_META_WORDS = (
    "answer source sources document documents passage according state states mention "
    "mentions say says provide provides information question find found"
)
_ENDING = re.compile(r"(?:ion|ment|e|y)$")
_META = frozenset(_ENDING.sub("", stem(w))[:ROOT_CHARS] for w in _META_WORDS.split())


def roots(text: str) -> set[str]:
    """Content stems, endings off, cut to ROOT_CHARS letters: "ruled" meets "rule", "located"
    "location", "Petrela's" "Petrela"."""
    found = set()
    for word in content_stems(text):
        if not word.startswith("<"):
            word = _ENDING.sub("", word.rstrip("'’"))[:ROOT_CHARS]
        found.add(word)
    return found - _META


def refuses(text: str) -> bool:
    return bool(_REFUSAL.search(text))


class QuestionTopic:
    """The question's content words, weighed, and which evidence units are on it."""

    def __init__(self, question: str, evidence: Sequence, quotes: Sequence[str]) -> None:
        self.question = question
        self.kind = asked_type(question)
        self.stems = roots(question)
        self.unit_roots = [roots(unit.text) for unit in evidence]
        counts: dict[str, int] = {}
        for unit_roots in self.unit_roots:
            for s in unit_roots & self.stems:
                counts[s] = counts.get(s, 0) + 1
        total = max(1, len(evidence))
        # Question words no passage has (a paraphrase) weigh nothing: no sentence could hold them.
        self.weights = {s: math.log(1 + total / n) for s, n in counts.items()}
        quoted = " ".join(" ".join(q.split()) for q in quotes)
        whole = sum(self.weights.values())
        shares = [
            sum(self.weights.get(s, 0.0) for s in unit_roots) / whole if whole else 0.0
            for unit_roots in self.unit_roots
        ]
        # On the question: among the passage sentences that hold the most of it (a sentence
        # naming only the topic everywhere, "the Huguenots", is not), or quoted.
        floor = max(ABOUT_SHARE, BEST_SHARE * max(shares, default=0.0))
        self.on_topic = [
            (whole > 0 and share >= floor)
            or (QUOTES_ON_TOPIC and bool(quoted) and " ".join(unit.text.split()) in quoted)
            for unit, share in zip(evidence, shares, strict=True)
        ]
        self.evidence = evidence

    def unsupported(self, sentence: str, facts: Sequence, question_tokens: set[str]) -> str | None:
        """Why `sentence` does not stand with the question (None: it does)."""
        if refuses(sentence):
            return None
        stated = [f for f in facts if not f.parts <= question_tokens]
        new = roots(sentence) - self.stems
        for fact in stated:
            new -= roots(fact.shown)
        if not stated and not new:
            return None if self.kind is None and not _WH.search(self.question) else _NOTHING
        needed = math.ceil(WORD_SHARE * len(new))
        on_topic = [
            (unit, unit_roots)
            for unit, unit_roots, on in zip(
                self.evidence, self.unit_roots, self.on_topic, strict=True
            )
            if on
        ]
        # Each stated fact in a sentence on the question, and the new words (most of them) too.
        alone = [f.shown for f in stated if not any(f.parts <= u.tokens for u, _ in on_topic)]
        if (
            FACTS_TOGETHER
            and stated
            and not any(all(f.parts <= u.tokens for f in stated) for u, _ in on_topic)
        ):
            alone = [f.shown for f in stated]
        if needed and not any(len(new & r) >= needed for _, r in on_topic):
            alone += sorted(new)[:3]
        if not alone:
            return None
        return f"{', '.join(alone)}: no source sentence on the question says this"

    def missing_kind(self, answer: str) -> str | None:
        """Why the answer does not answer the kind of question asked (None: it does)."""
        if self.kind is None or refuses(answer) or _holds(self.kind, answer, self.question):
            return None
        return f"states no {_KIND_SHOWN[self.kind]}, which the question asks for"


def _holds(kind: str, answer: str, question: str) -> bool:
    """holds_type, but a name may open the answer ("Richard ruled …") and any digit may be a
    date ("in 911")."""
    if kind in ("person", "place"):
        asked = {w.lower() for w in _WORD.findall(question)}
        return any(
            w.lower() not in asked and w.lower() not in STOPWORDS
            for w in _CAPITALIZED.findall(answer)
        )
    return holds_type(kind, answer, question) or bool(_DIGIT.search(answer))

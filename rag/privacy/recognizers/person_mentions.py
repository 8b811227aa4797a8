"""A name said in full once, repeated in part elsewhere in the same text.

"directed by Maciej Borkowski and starring Borkowski", "Asya spent a year ... as the assistant
to Asya Godina": the full name is found (by spaCy, the name lists or a cue), the lone
repetition is not, because the word is in no list and nothing introduces it. Each word of a
full name of two words or more that is no everyday word is a name wherever else it stands
capitalized in the text, but not after an article or "in"/"at" ("the Fab Assets" after
"Arizona Fab", "banks in London"), nor where it qualifies a noun ("Google chat", by spaCy's
parse, made for these words only). Everyday words never repeat ("Key", "North": "our North America
segment" must stay), nor do countries, months and words always capitalized.

Full names come from the list and cue recognizers and from spaCy's PERSON entities; one
counts only when each of its words looks like a name and one is a known given name or
surname (not "Cautionary Tales", "Facebook Page"). Firm words ("Inc"), countries, months and
other words always capitalized never repeat.
"""

from __future__ import annotations

from presidio_analyzer import EntityRecognizer, RecognizerResult

from rag.privacy.recognizers.person_cues import PersonCueRecognizer
from rag.privacy.recognizers.person_names import _NOT_A_PERSON_AFTER, PersonNameRecognizer
from rag.privacy.recognizers.timed_regex import timed
from rag.privacy.recognizers.word_lists import (
    capitalized_words,
    common_words,
    given_names,
    surnames,
)

_NAME_WORD = timed(
    r"(?<![\p{L}\p{N}_@.'’-])\p{Lu}\p{Ll}+(?:['’-]\p{Lu}?\p{Ll}+)*(?![\p{L}\p{N}@'’-])",
    name="person_mention_word",
)
# Names take no article or determiner ("the Fab Assets", "the Company and Awardee"), and a
# word after "in" or "at" is a place ("banks in London").
NOT_BEFORE_A_NAME = timed(
    r"(?<![\p{L}])(?i:the|a|an|our|its|their|this|that|these|those|in|at|near)[ ]+$",
    name="person_not_before_a_name",
)
_SPACY_PERSON = frozenset({"PERSON", "PER"})
MIN_WORD_LETTERS = 3


class PersonMentionRecognizer(EntityRecognizer):
    def __init__(self, score: float = 0.6) -> None:
        self.score = score
        self._names = PersonNameRecognizer()
        self._cues = PersonCueRecognizer()
        super().__init__(supported_entities=["PERSON"], name="PersonMentionRecognizer")

    def load(self) -> None:
        self._common = common_words()
        self._capitalized = capitalized_words()
        self._known = given_names() | surnames()

    def analyze(self, text: str, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        if "PERSON" not in entities:
            return []
        # A cue or the shape given name, initial, surname is evidence enough; a name from the
        # lists or from spaCy must hold a known given name or surname.
        shaped = [(r.start, r.end) for r in self._cues.analyze(text, entities, nlp_artifacts)]
        listed = [(r.start, r.end) for r in self._names.analyze(text, entities, nlp_artifacts)]
        listed += [
            (e.start_char, e.end_char)
            for e in getattr(nlp_artifacts, "entities", None) or []
            if e.label_ in _SPACY_PERSON
        ]
        full = [(s, e) for s, e in shaped if self._all_name_like(text[s:e], known=False)]
        full += [(s, e) for s, e in listed if self._all_name_like(text[s:e], known=True)]
        full = [(s, e) for s, e in full if len(text[s:e].split()) >= 2]
        words = {_stem(m.group()) for s, e in full for m in _NAME_WORD.finditer(text, s, e)}
        words = {w for w in words if len(w) >= MIN_WORD_LETTERS and self._name_word(w)}
        if not words:
            return []
        results = []
        for match in _NAME_WORD.finditer(text):
            word = _stem(match.group())
            if word not in words or any(s <= match.start() and match.end() <= e for s, e in full):
                continue
            if NOT_BEFORE_A_NAME.search(text, max(0, match.start() - 8), match.start()):
                continue
            if _names_a_thing(nlp_artifacts, match.start(), match.end()):
                continue
            end = match.start() + len(word)
            results.append(RecognizerResult("PERSON", match.start(), end, self.score))
        return results

    def _name_word(self, word: str) -> bool:
        return (
            word.lower() not in self._common
            and word not in self._capitalized
            and word not in _NOT_A_PERSON_AFTER  # "Inc", "Ltd"
        )

    def _all_name_like(self, value: str, known: bool) -> bool:
        """Every word no everyday word (or an initial), and, where `known`, one a known given
        name or surname: spaCy's small model and the list recognizer's "word + surname" call
        many a product or a firm a PERSON ("Facebook Page", "Finjan Holdings")."""
        words = [_stem(w) for w in value.replace("’", "'").split()]
        return (
            bool(words)
            and all(_initial(w) or self._name_word(w) for w in words)
            and (not known or any(w in self._known for w in words))
        )


def _stem(word: str) -> str:
    """ "Yefremova's" -> "Yefremova": the name a possessive is made of."""
    return word.removesuffix("'s").removesuffix("’s")


def _initial(word: str) -> bool:
    """ "D.", "K": an initial ("a" in spaCy's PERSON "a Google Doc" is none)."""
    return len(word.rstrip(".")) == 1 and word[0].isupper()


def _names_a_thing(nlp_artifacts, start: int, end: int) -> bool:
    """The word qualifies a common noun after it ("your Google calendar", "Google chat"):
    spaCy's parse makes it a compound of a lower-case word."""
    doc = getattr(nlp_artifacts, "tokens", None)
    span = doc.char_span(start, end, alignment_mode="expand") if doc is not None else None
    if span is None:
        return False
    # The parse is made on first read (nlp_engine.py), so only for a repeated name word.
    from rag.privacy.nlp_engine import complete  # spaCy only once a doc is at hand

    doc = complete(doc)
    return any(
        t.dep_ == "compound" and t.head.text.islower() and t.head.i > t.i
        for t in doc[span.start : span.end]
    )

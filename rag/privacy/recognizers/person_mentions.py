"""A name said in full once, repeated in part elsewhere in the same text.

"directed by Maciej Borkowski and starring Borkowski", "Asya spent a year ... as the assistant
to Asya Godina": the full name is found (by spaCy, the name lists or a cue), the lone
repetition is not, because the word is in no list and nothing introduces it. Each word of a
full name of two words or more that is no everyday word is a name wherever else it stands
capitalized in the text. Everyday words never repeat ("Key", "North": "our North America
segment" must stay), nor do countries, months and words always capitalized.

Full names come from spaCy's PERSON entities and from the list and cue recognizers; a spaCy
span counts only when each of its words looks like a name (not "Cautionary Tales", "Morgan
Stanley Research"), and its words must not be countries, months or other words always
capitalized ("North America").
"""

from __future__ import annotations

from presidio_analyzer import EntityRecognizer, RecognizerResult

from rag.privacy.recognizers.person_cues import PersonCueRecognizer
from rag.privacy.recognizers.person_names import PersonNameRecognizer
from rag.privacy.recognizers.timed_regex import timed
from rag.privacy.recognizers.word_lists import (
    capitalized_words,
    common_words,
    given_names,
)

_NAME_WORD = timed(
    r"(?<![\p{L}\p{N}_@.'’-])\p{Lu}\p{Ll}+(?:['’-]\p{Lu}?\p{Ll}+)*(?![\p{L}\p{N}@'’-])",
    name="person_mention_word",
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
        self._given = given_names()

    def analyze(self, text: str, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        if "PERSON" not in entities:
            return []
        full = [
            (r.start, r.end)
            for r in (
                *self._names.analyze(text, entities, nlp_artifacts),
                *self._cues.analyze(text, entities, nlp_artifacts),
            )
        ]
        full += [
            (e.start_char, e.end_char)
            for e in getattr(nlp_artifacts, "entities", None) or []
            if e.label_ in _SPACY_PERSON and self._all_name_like(text[e.start_char : e.end_char])
        ]
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
            end = match.start() + len(word)
            results.append(RecognizerResult("PERSON", match.start(), end, self.score))
        return results

    def _name_word(self, word: str) -> bool:
        return word.lower() not in self._common and word not in self._capitalized

    def _all_name_like(self, value: str) -> bool:
        words = value.replace("’", "'").removesuffix("'s").split()
        return bool(words) and all(
            w in self._given or (w.lower() not in self._common and w not in self._capitalized)
            for w in words
        )


def _stem(word: str) -> str:
    """ "Yefremova's" -> "Yefremova": the name a possessive is made of."""
    return word.removesuffix("'s").removesuffix("’s")

"""Names no list knows, found by what the text says of them.

* Right before a verb said only of people: "Timotea lives on Via dei Fiorentini 17",
  "Tomomi Nishiyama lives at ...", "Okafor was born in 1960", "Brandt passed away".
* A sentence that starts with an unknown word, followed closely by "he", "him", "his", "she"
  or "her": "Shovda is very reliable. You can always depend on him.", "Mourik began writing
  as a teenager, publishing her first story". A company or a product is "it", not "her".
The word must be no everyday word, no country, month or other word always capitalized, and
not what spaCy calls a place, an organisation, a nationality, a date or a product.
"""

from __future__ import annotations

import regex
from presidio_analyzer import EntityRecognizer, RecognizerResult

from rag.privacy.recognizers.timed_regex import timed
from rag.privacy.recognizers.word_lists import capitalized_words, common_words

_WORD = r"\p{Lu}\p{Ll}+(?:['’-]\p{Lu}?\p{Ll}+)*"
PERSON_VERB = timed(
    rf"(?<![\p{{L}}\p{{N}}@.'’-])({_WORD})(?:[ ]({_WORD}))?[ ]"
    r"(?:lives|lived|was[ ]born|grew[ ]up|passed[ ]away|died)(?![\p{L}])",
    name="person_verb",
)
# A sentence's first word, then a word in lower case: "Shovda is", "Mourik began".
SENTENCE_SUBJECT = timed(
    rf"(?:^|(?<=[.!?][ ]{{1,2}}))({_WORD})(?=[ ]\p{{Ll}})",
    regex.M,
    name="person_sentence_subject",
)
GENDERED_PRONOUN = timed(
    r"(?<![\p{L}])(?i:he|him|his|himself|she|her|hers|herself)(?![\p{L}])",
    name="person_pronoun",
)
PRONOUN_REACH = 120  # characters after the word: its sentence and the next, about
_NOT_A_PERSON = frozenset({"GPE", "LOC", "FAC", "LOCATION", "ORG", "NORP", "NRP", "DATE"})
_NOT_A_PERSON |= frozenset({"PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE"})


class PersonPredicateRecognizer(EntityRecognizer):
    def __init__(self, score: float = 0.6) -> None:
        self.score = score
        super().__init__(supported_entities=["PERSON"], name="PersonPredicateRecognizer")

    def load(self) -> None:
        self._common = common_words()
        self._capitalized = capitalized_words()

    def analyze(self, text: str, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        if "PERSON" not in entities:
            return []
        others = [
            (e.start_char, e.end_char)
            for e in getattr(nlp_artifacts, "entities", None) or []
            if e.label_ in _NOT_A_PERSON
        ]
        results = []
        for match in PERSON_VERB.finditer(text):
            groups = [g for g in (1, 2) if match.group(g)]
            if all(self._unknown(match, g, others) for g in groups):
                start, end = match.start(groups[0]), match.end(groups[-1])
                results.append(RecognizerResult("PERSON", start, end, self.score))
        for match in SENTENCE_SUBJECT.finditer(text):
            reach = text[match.end(1) : match.end(1) + PRONOUN_REACH]
            if self._unknown(match, 1, others) and GENDERED_PRONOUN.search(reach):
                results.append(RecognizerResult("PERSON", match.start(1), match.end(1), self.score))
        return results

    def _unknown(self, match, group: int, others: list[tuple[int, int]]) -> bool:
        word, start, end = match.group(group), match.start(group), match.end(group)
        return (
            word.lower() not in self._common
            and word not in self._capitalized
            and not any(s < end and start < e for s, e in others)
        )

"""The speakers of a dialogue: "Ella: What a wife.\\nDestiny: Remember me, Maria?"

A line that starts with one capitalized word and a colon names who speaks. Where a text has
two such lines or more and one of their words is a given name that is no everyday word
("Ella"), every speaker word that is a given name or no everyday word is a PERSON
("Leverett", "Destiny"); "Note:", "Less:", "Total:" and "Website:" stay: in a table or a form
no label is a distinctive given name.
"""

from __future__ import annotations

import regex
from presidio_analyzer import EntityRecognizer, RecognizerResult

from rag.privacy.recognizers.person_names import capitalized_if_lowercase
from rag.privacy.recognizers.timed_regex import timed
from rag.privacy.recognizers.word_lists import (
    capitalized_words,
    common_words,
    distinctive_given_names,
    given_names,
)

SPEAKER = timed(
    r"^[ \t>*-]{0,3}(\p{Lu}\p{Ll}+(?:['’-]\p{Lu}?\p{Ll}+)*)[ \t]?:(?=[ \t]|[\"“'‘]|$)",
    regex.M,
    name="person_speaker",
)
MIN_SPEAKER_LINES = 2


class PersonSpeakerRecognizer(EntityRecognizer):
    def __init__(self, score: float = 0.6) -> None:
        self.score = score
        super().__init__(supported_entities=["PERSON"], name="PersonSpeakerRecognizer")

    def load(self) -> None:
        self._common = common_words()
        self._capitalized = capitalized_words()
        self._given = given_names()
        self._distinctive_given = distinctive_given_names()

    def analyze(self, text: str, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        if "PERSON" not in entities:
            return []
        text = capitalized_if_lowercase(text)
        speakers = list(SPEAKER.finditer(text))
        if len(speakers) < MIN_SPEAKER_LINES or not any(
            m.group(1) in self._distinctive_given for m in speakers
        ):
            return []
        return [
            RecognizerResult("PERSON", m.start(1), m.end(1), self.score)
            for m in speakers
            if m.group(1) in self._given
            or (m.group(1).lower() not in self._common and m.group(1) not in self._capitalized)
        ]

"""Names joined by "and" or listed with commas, where the others show what the unknown one is.

* A pair "A and B" in which one word is a known given name or surname and the other a word no
  list knows and no everyday word: "Usamov and Bowers were precision engineers", "Muslija and
  Brown". Not after an article ("the Company and Awardee"), not after a comma ("Barnett,
  Melton and Garcia" names a firm), not before a capitalized word ("Johnson and Hall
  Orchestra") or a firm's word ("... and Sons").
* A list "a, b, c and d" in which two items or more are given names that are no everyday
  words and no surnames: every item that is a given name or no everyday word ("they had 6:
  silvana, adam, christopher, kristina, chad and caleb" gives all six; "May, June and April"
  gives none).
In a pair, countries, months and words always capitalized are never taken ("Japan and Korea"),
nor words spaCy calls a place ("Columbia and California").
"""

from __future__ import annotations

from presidio_analyzer import EntityRecognizer, RecognizerResult

from rag.privacy.recognizers.person_mentions import NOT_BEFORE_A_NAME
from rag.privacy.recognizers.person_names import _NOT_A_PERSON_AFTER, capitalized_if_lowercase
from rag.privacy.recognizers.timed_regex import timed
from rag.privacy.recognizers.word_lists import (
    capitalized_words,
    common_words,
    distinctive_given_names,
    given_names,
    surnames,
)

_WORD = r"\p{Lu}\p{Ll}+(?:['’-]\p{Lu}?\p{Ll}+)*"
PAIR = timed(
    rf"(?<![\p{{L}}\p{{N}}@.'’-])(?<!,[ ])({_WORD})[ ]([Aa]nd)[ ]({_WORD})"
    r"(?![\p{L}\p{N}@'’-]|,)",
    name="person_pair",
)
# Three to eight single words: "a, b, c and d" (an Oxford comma too).
LIST = timed(
    rf"(?<![\p{{L}}\p{{N}}@.'’-])({_WORD})((?:,[ ]{_WORD}){{1,6}}),?[ ]([Aa]nd)[ ]({_WORD})"
    r"(?![\p{L}\p{N}@'’-])",
    name="person_list",
)
_ITEM = timed(_WORD, name="person_list_item")
MIN_GIVEN_IN_LIST = 2
# spaCy's labels under which a pair is no pair of names: places only (its small model calls
# many unknown names an organisation).
_NOT_A_PERSON = frozenset({"GPE", "LOC", "FAC", "LOCATION"})


class PersonListRecognizer(EntityRecognizer):
    def __init__(self, score: float = 0.6) -> None:
        self.score = score
        super().__init__(supported_entities=["PERSON"], name="PersonListRecognizer")

    def load(self) -> None:
        self._common = common_words()
        self._capitalized = capitalized_words()
        self._given = given_names()
        self._distinctive_given = distinctive_given_names()
        self._surnames = surnames()
        self._known = given_names() | self._surnames

    def analyze(self, text: str, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        if "PERSON" not in entities:
            return []
        written = text
        places = [
            (e.start_char, e.end_char)
            for e in getattr(nlp_artifacts, "entities", None) or []
            if e.label_ in _NOT_A_PERSON
        ]
        text = capitalized_if_lowercase(text)  # "silvana, adam and chad": same length
        results = []
        for match in PAIR.finditer(text):
            a, b = match.group(1), match.group(3)
            if written[match.start(2)] == "A":
                continue  # "Standard And Poors": a title, not two names
            if NOT_BEFORE_A_NAME.search(written, max(0, match.start() - 8), match.start()):
                continue  # "the Company and Awardee's employer"
            after = written[match.end(3) : match.end(3) + 40].split(None, 1)
            if after and (after[0][:1].isupper() or after[0].rstrip(".,") in _NOT_A_PERSON_AFTER):
                continue  # "Johnson and Hall Orchestra", "... and Sons"
            if any(s < match.end(3) and match.start(1) < e for s, e in places):
                continue  # "the District of Columbia and California"
            if (a in self._known and self._unknown(b)) or (b in self._known and self._unknown(a)):
                results += [self._result(match.start(1), match.end(1))]
                results += [self._result(match.start(3), match.end(3))]
        for match in LIST.finditer(text):
            if written[match.start(3)] == "A":
                continue
            items = [
                m for m in _ITEM.finditer(text, match.start(), match.end()) if m.group() != "And"
            ]
            # Many surnames are given names too ("Barnett, Melton and Garcia" is a firm).
            given = sum(
                m.group() in self._distinctive_given and m.group() not in self._surnames
                for m in items
            )
            if given < MIN_GIVEN_IN_LIST:
                continue
            for m in items:  # "chad" too, a country's name among given names
                if m.group() in self._given or m.group().lower() not in self._common:
                    results.append(self._result(m.start(), m.end()))
        return results

    def _unknown(self, word: str) -> bool:
        """No everyday word, no country or month: a name no list has."""
        return word.lower() not in self._common and word not in self._capitalized

    def _result(self, start: int, end: int) -> RecognizerResult:
        return RecognizerResult("PERSON", start, end, self.score)

"""PERSON names the small spaCy model misses, found with name lists instead of a model.

A known given name ("Ana", "Oluwaseun"... from lists/given_names.txt) starts a name; following
capitalized words on the same line that are not common English words ("Souza", "J.", "ten
Pas") are its surname. A capitalized word followed by a known surname ("... Adeyemi") is a
name too. A given name alone counts only where spaCy does not call it a place or an
organisation ("Florence" in "lives in Florence" is not a person).

A given name that is also an everyday word ("Will", "Grace", "June", "Christian") starts a
name only when a surname-like word follows ("Will Pearson"), never alone.
"""

from __future__ import annotations

from presidio_analyzer import EntityRecognizer, RecognizerResult

from rag.privacy.recognizers.timed_regex import timed
from rag.privacy.recognizers.word_lists import (
    capitalized_words,
    common_words,
    distinctive_given_names,
    distinctive_surnames,
    given_names,
)

# A Capitalized word in any cased script ("Ana", "Jean-Luc", "O'Neil", "Żaneta"), or an initial.
_TOKEN = timed(
    r"(?<![\p{L}\p{N}_@.])(?:\p{Lu}\p{Ll}+(?:['’-]\p{Lu}?\p{Ll}+)*|\p{Lu}\.?)(?![\p{L}\p{N}@])",
    name="person_name_word",
)
# Lowercase surname particles: "Willemine ten Pas", "Ana de Souza".
_PARTICLES = frozenset(
    {"van", "von", "de", "da", "der", "den", "del", "della", "di", "du", "la", "le", "ten"}
    | {"ter", "dos", "das", "do", "bin", "ibn", "al", "el"}
)
_SAME_LINE_GAP = timed(r"[ \t]{1,3}", name="person_name_gap")
# Entity labels under which a lone given name is something else: spaCy's, and the names
# Presidio maps them to in nlp_artifacts ("Florence" -> LOCATION).
_NOT_A_PERSON = frozenset({"GPE", "LOC", "FAC", "LOCATION"})
MAX_SURNAME_WORDS = 3
# A lone name right after these is a place ("lives in Florence", "from Jackson").
_PLACE_WORDS_BEFORE = frozenset(
    {"in", "at", "from", "to", "near", "visit", "visiting", "across", "around", "outside", "of"}
)
# A lone surname right before these names a company, a street or a place ("Willis Group").
_NOT_A_PERSON_AFTER = frozenset(
    {"Ltd", "Inc", "LLC", "LLP", "plc", "GmbH", "AG", "Group", "Corporation", "Corp", "Company"}
    | {"Co", "Bank", "Partners", "Associates", "Orchestra", "Foundation", "University"}
    | {"Institute", "Capital", "Investments", "Research", "Holdings", "Sons", "Brothers"}
    | {"Street", "St", "Avenue", "Ave", "Road", "Rd", "County", "City", "Park", "Hall"}
)
_PREVIOUS_WORD = timed(r"([^\W\d_]+)[ \t]*$", name="person_previous_word")
# A text written without capitals ("my name is vitoria") is read as if each word had one.
LOWERCASE_TEXT_MAX_CAPITALS = 0.01


class PersonNameRecognizer(EntityRecognizer):
    def __init__(
        self,
        full_name_score: float = 0.75,
        given_name_score: float = 0.6,
        surname_score: float = 0.55,
    ) -> None:
        self.full_name_score = full_name_score
        self.given_name_score = given_name_score
        self.surname_score = surname_score
        super().__init__(supported_entities=["PERSON"], name="PersonNameRecognizer")

    def load(self) -> None:
        self._given = distinctive_given_names()
        self._ambiguous_given = given_names() - self._given
        self._surnames = distinctive_surnames()
        self._common = common_words()
        self._capitalized = capitalized_words()

    def analyze(self, text: str, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        if "PERSON" not in entities:
            return []
        cased = capitalized_if_lowercase(text)
        # Without capitals, "my" or "will" could start any phrase: distinctive names only.
        ambiguous_given = self._ambiguous_given if cased is text else frozenset()
        text = cased
        tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]
        other_entities = _other_entity_spans(nlp_artifacts)
        results, i = [], 0
        while i < len(tokens):
            start, end, word = tokens[i]
            j = i + 1
            if word in self._given or word in ambiguous_given:
                while j < len(tokens) and j - i <= MAX_SURNAME_WORDS:
                    if _possessive(tokens[j - 1][2]):
                        break  # "Terence Vassiliev's Cautionary Tales": the name ends
                    if not self._joins(text, tokens[j - 1][1], tokens[j]):
                        break
                    j += 1
                has_surname = any(self._name_word(t[2]) for t in tokens[i + 1 : j])
                if word in ambiguous_given and not has_surname:
                    i += 1  # "Will", "Grace" alone are words
                    continue
                if j == i + 1 and _is_place(text, start, end, other_entities):
                    i += 1  # "lives in Florence"
                    continue
                score = self.full_name_score if j > i + 1 else self.given_name_score
            elif (
                self._name_word(word)
                and j < len(tokens)
                and tokens[j][2] in self._surnames
                and _gap_is_space(text, end, tokens[j][0])
            ):
                j += 1
                score = self.full_name_score
            elif (
                word in self._surnames
                and not (j < len(tokens) and tokens[j][2] in _NOT_A_PERSON_AFTER)
                and not _is_place(text, start, end, other_entities)
            ):
                score = self.surname_score  # "Usamov and Bowers were", "last name? Boyle"
            else:
                i += 1
                continue
            results.append(RecognizerResult("PERSON", start, tokens[j - 1][1], score))
            i = j
        return results

    def _joins(self, text: str, previous_end: int, token: tuple[int, int, str]) -> bool:
        """Whether `token` continues the name that ends at `previous_end`: same line, only
        spaces (or surname particles) between, and a name-like word or an initial."""
        start, _, word = token
        gap = text[previous_end:start]
        words = gap.split()
        if "\n" in gap or any(w not in _PARTICLES for w in words) or len(gap) > 12:
            return False
        if not words and not _gap_is_space(text, previous_end, start):
            return False
        return _is_initial(word) or self._name_word(word)

    def _name_word(self, word: str) -> bool:
        word = word.removesuffix("'s").removesuffix("’s")  # "Driver's" is "driver"
        return (
            not _is_initial(word)
            and word.lower() not in self._common
            and word not in self._capitalized
        )


def _possessive(word: str) -> bool:
    return word.endswith(("'s", "’s"))


def _is_initial(word: str) -> bool:
    return len(word.rstrip(".")) == 1


def _gap_is_space(text: str, end: int, start: int) -> bool:
    return _SAME_LINE_GAP.fullmatch(text, end, start) is not None


def _other_entity_spans(nlp_artifacts) -> list[tuple[int, int]]:
    entities = getattr(nlp_artifacts, "entities", None) or []
    return [(e.start_char, e.end_char) for e in entities if e.label_ in _NOT_A_PERSON]


def _inside(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(s <= start and end <= e for s, e in spans)


def _is_place(text: str, start: int, end: int, places: list[tuple[int, int]]) -> bool:
    """A lone name that spaCy calls a place, and either part of a longer place name ("Los
    Angeles") or after a place word ("in Florence"). Alone, spaCy's small model calls many
    names places ("Why is Rebecca so impulsive?")."""
    if not _inside(start, end, places):
        return False
    if any(s <= start and end <= e and (s, e) != (start, end) for s, e in places):
        return True
    previous = _PREVIOUS_WORD.search(text, max(0, start - 30), start)
    return previous is not None and previous.group(1).lower() in _PLACE_WORDS_BEFORE


def capitalized_if_lowercase(text: str) -> str:
    """`text` with each word capitalized when it is written without capitals, else as is;
    always the same length, so offsets hold."""
    letters = sum(c.isalpha() for c in text)
    capitals = sum(c.isupper() for c in text)
    if letters < 8 or capitals > LOWERCASE_TEXT_MAX_CAPITALS * letters:
        return text
    return capitalize_words(text)


def capitalize_words(text: str) -> str:
    """`text` with the first letter of each word upper-cased; unchanged where that would
    change its length (a few letters upper-case to two), so offsets hold."""
    cased = _WORD_START.sub(lambda m: m.group().upper(), text)
    return cased if len(cased) == len(text) else text


_WORD_START = timed(r"(?<![\p{L}\p{N}_'’])\p{Ll}", name="person_word_start")

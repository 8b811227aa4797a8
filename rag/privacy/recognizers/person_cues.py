"""PERSON names that no list knows, found by what introduces them or by their shape.

* After a phrase that introduces a name: "my name is Rubija", "her maiden name is Key", "people
  call me Csanád", "ms. Quinzia", "Mr. Okonkwo". Right after "name is" or a title any
  capitalized word is taken ("Key"), except places and calendar words ("call me Monday");
  after "I'm" only a word that is no everyday word.
* The shape given name, initial, surname: "Szabina J Gelencsér", "Faina D. Yefremova", where
  neither word is an everyday word ("Vitamin D Deficiency" is not a name).
A text written without capitals ("my name is borna") is read as if its words had them.
"""

from __future__ import annotations

from presidio_analyzer import EntityRecognizer, RecognizerResult

from rag.privacy.recognizers.person_names import capitalize_words, capitalized_if_lowercase
from rag.privacy.recognizers.timed_regex import timed
from rag.privacy.recognizers.word_lists import capitalized_words, common_words

_WORD = r"\p{Lu}\p{Ll}+(?:['’-]\p{Lu}?\p{Ll}+)*"
# Phrases after which a capitalized word is a name, whatever the word.
STRONG_CUE = timed(
    r"(?<![\p{L}])(?:(?i:(?:my|her|his|their|your|maiden|first|last|given|family|full)[ ]"
    r"(?:full[ ])?name[ ](?:is|was)|(?:call|calls|called)[ ]me)"
    # Titles as written before a name: "Mr", "ms.", never "MS Word" or "we miss".
    r"|(?:[Mm]rs?|[Mm]s|Miss|[Dd]r\.|[Pp]rof\.)\.?)[ ]+(?=\p{L})",
    name="person_strong_cue",
)
# Phrases after which only a word that is no everyday word is a name ("I'm Tired" is not).
WEAK_CUE = timed(r"(?<![\p{L}])(?i:i['’]m|i[ ]am)[ ]+(?=\p{L})", name="person_weak_cue")
# The name words after a cue, on the same line: up to three words or initials.
NAME_AFTER_CUE = timed(
    rf"{_WORD}(?:[ ](?:{_WORD}|\p{{Lu}}\.?(?![\p{{L}}]))){{0,2}}(?![\p{{L}}\p{{N}}])",
    name="person_name_after_cue",
)
INITIAL_NAME = timed(
    rf"(?<![\p{{L}}\p{{N}}@.])({_WORD})[ ]\p{{Lu}}\.?[ ]({_WORD})(?![\p{{L}}\p{{N}}@])",
    name="person_initial_name",
)


class PersonCueRecognizer(EntityRecognizer):
    def __init__(self, cue_score: float = 0.7, initial_score: float = 0.7) -> None:
        self.cue_score = cue_score
        self.initial_score = initial_score
        super().__init__(supported_entities=["PERSON"], name="PersonCueRecognizer")

    def load(self) -> None:
        self._common = common_words()
        self._capitalized = capitalized_words()

    def analyze(self, text: str, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        if "PERSON" not in entities:
            return []
        results = []
        # Names after a cue are often typed in lower case ("my name is borna"): read every
        # word as capitalized, but take a word written in lower case only when it is no
        # everyday word ("my name is not important").
        cased = capitalize_words(text)
        lowercase = capitalized_if_lowercase(text) is not text
        for cue, strong in ((STRONG_CUE, True), (WEAK_CUE, False)):
            for match in cue.finditer(cased):
                name = NAME_AFTER_CUE.match(cased, match.end())
                if name is None:
                    continue
                words = name.group().split(" ")
                written_capital = text[name.start()].isupper()
                # "I am cambodian": after a weak cue a word in lower case is a name only
                # where the whole text is written without capitals.
                if not (
                    (self._name_word(words[0]) and (written_capital or strong or lowercase))
                    or (strong and written_capital and words[0] not in self._capitalized)
                ):
                    continue
                end = name.start() + len(words[0])
                for word in words[1:]:  # further words only while they look like names
                    if not (self._name_word(word) or len(word.rstrip(".")) == 1):
                        break
                    end += 1 + len(word)
                results.append(RecognizerResult("PERSON", name.start(), end, self.cue_score))
        text = cased if lowercase else text
        for match in INITIAL_NAME.finditer(text):
            if self._name_word(match.group(1)) and self._name_word(match.group(2)):
                results.append(
                    RecognizerResult("PERSON", match.start(), match.end(), self.initial_score)
                )
        return results

    def _name_word(self, word: str) -> bool:
        return word.lower() not in self._common and word not in self._capitalized

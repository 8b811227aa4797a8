"""Street addresses in any form, found by the phrase that introduces them.

The shape recognizers (street_address.py, world_address.py) need a street-type word or a unit;
many streets have neither ("Joaquin Suarez 2906", "Leon and Eyrarodda 66"). Where a phrase says
an address follows ("lives on", "send it to", "located at", "meet me at", "my address is",
"address: ..."), a run of capitalized words with a house number is taken as the address:

* the run starts right after the phrase, with a number or a capitalized word, and ends at the
  end of the sentence, the line, or before a word in lower case ("... 66 in case of");
* it holds a number of 1-6 digits and a capitalized word that is no everyday word ("Note 5",
  "Level 3", "Q3 2025" are not addresses), and no time of day, month or weekday ("Intel in
  February 2022");
* it then grows over the unit, postcode and place lines that complete it (world_address.extend).
"""

from __future__ import annotations

from presidio_analyzer import EntityRecognizer, RecognizerResult

from rag.privacy.recognizers.person_names import capitalized_if_lowercase
from rag.privacy.recognizers.timed_regex import timed
from rag.privacy.recognizers.word_lists import capitalized_words, common_words
from rag.privacy.recognizers.world_address import extend

# Verbs of living, meeting, sending and arriving, and the preposition that points at a place.
_VERB_CUE = (
    r"(?i:lives?|living|lived|stays?|staying|located|based|meet[ ](?:me|you|us)|meet|off|"
    r"arrived|arrives|delivered|deliver|return(?:ed)?(?:[ ]it)?|sent|send(?:[ ]it)?|"
    r"ship(?:ped)?(?:[ ]it)?|mail(?:ed)?(?:[ ]it)?|moved|move|enter|post(?:ed)?"
    r"|(?:is|are)(?=[ ](?i:at|on)[ ])"
    r")[ ](?i:on|at|to|in)(?:[ ]the[ ]\p{Ll}+[ ]side[ ]of)?"
)
# "a new one to", "the statement sent to": an object between the verb and "to".
_OBJECT_CUE = r"(?i:send|sent|ship|mail|deliver|forward)[ ](?:\p{Ll}+[ ]){1,3}(?i:to)"
# "address is", "address: ", "addresses, here they are:", "billing address with".
_ADDRESS_CUE = (
    r"(?i:address(?:es)?)(?:[ ]\p{Ll}+){0,2}(?:[ ]?:|[ ]is|[ ]with|,[ ]here[ ]\p{Ll}+[ ]\p{Ll}+:)"
)
ADDRESS_CUE = timed(
    rf"(?<![\p{{L}}])(?:{_VERB_CUE}|{_OBJECT_CUE}|{_ADDRESS_CUE})[ ]+",
    name="address_cue",
)
# After "address" earlier in the text, a question's or a label's answer: "... address? Oh do
# they serve vegan stuff? It's in ...", "validate the following? Cinzia and Hammarvägen 15",
# "the address linked to my card to 9858 92 Hounslow Rd".
ANSWER_CUE = timed(
    r"(?:[?:][ ]+(?i:(?:user|it['’]s(?:[ ]in|[ ]at)?|it[ ]is(?:[ ]in|[ ]at)?)[ ]?:?[ ]+)?"
    r"|(?i:it['’]s|it[ ]is)[ ](?i:in|at)[ ]+|[ ](?i:to|at|on)[ ]+(?=\d))",
    name="address_answer_cue",
)
ADDRESS_WORD = timed(r"(?i:address)", name="address_word")
# How far back "address" may stand for ANSWER_CUE to count.
ANSWER_REACH = 150

_NUM = r"\d{1,6}[A-Za-z]?(?:[/-]\d{1,4})?\.?"
_CAP = r"\p{Lu}[\p{L}'’.-]{0,30}"
# Lower-case words inside a street's name or between two streets: "rue des", "Via dei",
# "Belgrád rkp.", "Piroska u.", "Leon and Eyrarodda" (never "in", "for": "Intel in February").
_LINK = (
    r"(?:and|de|da|do|dos|das|del|della|dei|di|du|des|la|le|les|van|von|der|den|ten|y|e|z|"
    r"u\.|út|tér|rkp\.|str\.?|nad|pod|am|an|im|sur|en|na|st\.?)"
)
# Words of a street: capitalized, numbers, those links; it ends on a capitalized word or a number.
_PIECE = rf"(?:{_CAP}|{_NUM}|{_LINK}|&)"
RUN = timed(
    rf"(?:{_CAP}|{_NUM})(?:(?:,?[ ]{_PIECE}){{0,8}},?[ ](?:{_CAP}|{_NUM}))?(?![\p{{L}}\d])",
    name="address_run",
)
_TOKEN = timed(r"[\p{L}\d][\p{L}\d'’-]*", name="address_run_word")
# A time, or a month or weekday: "returned to Intel in February 2022", "at 5 pm".
_TIME = timed(
    r"\d[ ]?(?i:am|pm)\b|\d:\d|(?<![\p{L}])(?:January|February|March|April|May|June|July|"
    r"August|September|October|November|December|Monday|Tuesday|Wednesday|Thursday|Friday|"
    r"Saturday|Sunday|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)(?![\p{L}])",
    name="address_time",
)


class AddressCueRecognizer(EntityRecognizer):
    # Above spaCy's 0.85: "lives on Joaquin Suarez 2906" is an address, not a PERSON.
    def __init__(self, score: float = 0.86) -> None:
        self.score = score
        super().__init__(supported_entities=["STREET_ADDRESS"], name="AddressCueRecognizer")

    def load(self) -> None:
        self._common = common_words()
        self._capitalized = capitalized_words()

    def analyze(self, text: str, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        if "STREET_ADDRESS" not in entities or capitalized_if_lowercase(text) is not text:
            return []
        starts = {m.end() for m in ADDRESS_CUE.finditer(text)}
        if ADDRESS_WORD.search(text):
            for match in ANSWER_CUE.finditer(text):
                before = text[max(0, match.start() - ANSWER_REACH) : match.start()]
                if ADDRESS_WORD.search(before):
                    starts.add(match.end())
        results = []
        for start in sorted(starts):
            run = RUN.match(text, start)
            if run is None or not self._is_address(run.group()):
                continue
            begin, end = extend(text, run.start(), run.end())
            if end == run.end() and run.group().endswith("."):
                end -= 1  # the sentence's full stop, unless place lines follow ("97.\n Porto")
            results.append(RecognizerResult("STREET_ADDRESS", begin, end, self.score))
        return results

    def _is_address(self, run: str) -> bool:
        words = [w.group() for w in _TOKEN.finditer(run)]
        has_number = any(w[0].isdigit() for w in words)
        has_name = any(
            w[0].isupper() and w.lower() not in self._common and w not in self._capitalized
            for w in words
        )
        return has_number and has_name and _TIME.search(run) is None

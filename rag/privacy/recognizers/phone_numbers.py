"""Phone numbers in the forms people write them across countries, beside Presidio's recognizer
(which parses numbers of a few countries only, and misses "+41 (0)96 471 07 95",
"01.84.17.61.18", "0490 75 40 81", "9472 7916").

One pattern finds runs of digit groups with an optional "+CC" / "(area)" / "(0)" prefix and an
extension; what the run looks like then decides:
* a number by its shape alone (0.6): an international prefix (+ or 00), an area code in
  parentheses, an extension, the North American 3-3-4 form, the dotted 2-2-2-2-2 form, or a
  trunk 0 and at least nine digits;
* any other run of 7 to 12 digits in groups (or 7 to 11 unbroken) only next to a word that
  says phone: "Phone:", "call me on", "mobile", "fax", "... office" (0.6), else nothing.
Dates, times, US social security numbers, IPv4 addresses and runs of years are never phone
numbers; runs of 12 or more unbroken digits are left to the card recognizer.
"""

from __future__ import annotations

from presidio_analyzer import EntityRecognizer, RecognizerResult

from rag.privacy.recognizers.timed_regex import timed

_PREFIX = r"(?:(?:\+|00)\d{1,3}[ .-]?(?:\(0\)[ ]?)?|\(\d{1,4}\)[ .-]?)"
_EXTENSION = r"(?:[ ]?(?i:x|ext\.?)[ ]?\d{1,6})"
PHONE_RUN = timed(
    rf"(?<![\w+./-]){_PREFIX}?\d{{1,15}}(?:[ .-]\d{{1,8}}){{0,5}}{_EXTENSION}?(?![\w@/]|[.,-]\d)",
    name="phone_run",
)
_NANP = timed(r"(?:(?:\+|00)?1[ .-]?)?\d{3}([.-])\d{3}\1\d{4}", name="phone_nanp")
_DOTTED = timed(r"\d{2}(?:\.\d{2}){4}", name="phone_dotted")
_NOT_A_PHONE = timed(
    r"(?:19|20)\d\d([.-])\d\d?\1\d\d?(?:[ T]\d.*)?|\d\d?([./-])\d\d?\2(?:19|20)\d\d"  # dates
    r"|\d{3}-\d\d-\d{4}"  # US SSN
    r"|(?:\d{1,3}\.){3}\d{1,3}"  # IPv4
    r"|(?:(?:19|20)\d\d[ ]?)+",  # years in a row (table headers)
    name="phone_excluded",
)
_WORD = timed(r"[^\W\d_]+", name="phone_context_word")
CONTEXT = frozenset(
    {"phone", "telephone", "tel", "mobile", "cell", "cellphone", "fax", "desk", "office"}
    | {"call", "called", "calling", "dial", "ring", "reach", "text", "sms", "whatsapp"}
    | {"contact", "hotline", "answering", "message", "messages", "ext", "extension", "landline"}
)
CONTEXT_BEFORE, CONTEXT_AFTER = 40, 12


# No phone number has fewer digits than this (subscriber numbers of small countries have 7);
# shorter runs are years, amounts and codes ("In 1685", "(1685)"), whichever recognizer says so.
MIN_PHONE_DIGITS = 7


def too_short_for_a_phone(value: str) -> bool:
    return sum(ch.isdigit() for ch in value) < MIN_PHONE_DIGITS


class PhoneNumberShapeRecognizer(EntityRecognizer):
    def __init__(self, score: float = 0.6) -> None:
        self.score = score
        super().__init__(supported_entities=["PHONE_NUMBER"], name="PhoneNumberShapeRecognizer")

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        if "PHONE_NUMBER" not in entities:
            return []
        results = []
        for match in PHONE_RUN.finditer(text):
            value = match.group()
            digits = sum(c.isdigit() for c in value)
            if not 7 <= digits <= 15 or _NOT_A_PHONE.fullmatch(value):
                continue
            if _by_shape(value, digits) or (
                _groups_ok(value, digits) and _near_context(text, match.start(), match.end())
            ):
                results.append(
                    RecognizerResult("PHONE_NUMBER", match.start(), match.end(), self.score)
                )
        return results


def _by_shape(value: str, digits: int) -> bool:
    return (
        (value[0] == "+" and digits >= 8)
        or (value.startswith("00") and digits >= 10)  # not "001-36743", a file number
        or "(" in value
        or "x" in value.lower()  # an extension
        or _NANP.fullmatch(value) is not None
        or _DOTTED.fullmatch(value) is not None
        or (value[0] == "0" and digits >= 9 and not value.isdigit())
    )


def _groups_ok(value: str, digits: int) -> bool:
    return digits <= (11 if value.isdigit() else 12)


def _near_context(text: str, start: int, end: int) -> bool:
    before = text[max(0, start - CONTEXT_BEFORE) : start]
    after = text[end : end + CONTEXT_AFTER].split("\n", 1)[0]
    words = (w.group().lower() for w in _WORD.finditer(f"{before} {after}"))
    return any(w in CONTEXT for w in words)

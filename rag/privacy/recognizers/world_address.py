"""Street addresses outside the US, and the lines that complete an address.

Patterns, each a real convention rather than a list of streets:
* a street-type word before the name, then the house number: "Via Roma 131",
  "Rua João Pessoa 1636", "Rue de Virton 38", "Calle Mayor 5", "Λεωφόρος Συγγρού 119";
  or the number first: "29 Rue de Tanger";
* a street-type ending or word after the name, then the number: "Friedhofstrasse 33",
  "Magasinsgatan 7", "Puruntie 82", "Rooseveltlaan 110", "Rákóczi út 66", "Piroska u. 97";
* a street named in its own language, then an English type word after the number: "Hoge Wei
  32 St.", "Grössgstötten 50 street";
* a street corner: "the corner of Csabai kapu 39. and Mathias Pass";
* a street by name alone, two or three words and a full type word, after "on" or "at": "shows
  on Berg Hills Street" (not "on Wall Street": one word is too often a landmark);
* US military mail (USPS): "PSC 3294, Box 9168 APO AA 61487", "USS Lorenzen FPO AE 25990";
* a unit alone ("Apt. 117", "Suite 464"), weaker;
* a UK postcode ("SW1A 2AA"), whose shape alone is telling.
A street found by any of these (or by street_address.py) then grows over what completes it on
the same or following lines: a unit, a postcode, and lines made only of place names and codes
("Tubize, Belgium", "Soloi\\n Cyprus 25572", "Ostrov nad Ohrí"). A leading 4-5 digit number
joins too. A text written without capitals is read as if its words had them, and a street
found there counts only with a unit or a line after it ("4120 fourth avenue suite 210").
"""

from __future__ import annotations

import regex
from presidio_analyzer import EntityRecognizer, RecognizerResult

from rag.privacy.recognizers.person_names import capitalized_if_lowercase
from rag.privacy.recognizers.street_address import STREET_ADDRESS_REGEX
from rag.privacy.recognizers.timed_regex import timed
from rag.privacy.recognizers.word_lists import common_words

_NAME = r"\p{Lu}[\p{L}'’.-]*"
_PARTICLE = r"(?:de|da|do|dos|das|del|della|dei|di|du|des|la|le|les|van|von|der|den|ten|y|e|z)"
_NUMBER = r"\d{1,5}(?:[ ]?[A-Za-z](?![\p{L}\d]))?(?:[/-]\d{1,4})?"
_NAME_WORDS = rf"(?:(?:{_NAME}|{_PARTICLE})[ ]+){{0,4}}{_NAME}"
# Street types written before the name (Romance, Slavic, Greek, English loans), any case.
_PREFIX = (
    r"(?i:via|viale|vicolo|piazza|piazzale|corso|largo|rua|avenida|av|travessa|praça|praca|"
    r"rue|avenue|boulevard|bd|chemin|allée|allee|impasse|quai|calle|carrer|paseo|plaza|"
    r"camino|carretera|c/|ulica|ul|aleja|strada|calea|bulevardul|odos|οδός|λεωφόρος|ulitsa|"
    r"улица|ул|проспект)"
)
# Street types before the name that are no English word: lower-case words may follow them
# ("31 Rue tachkent", "26 rue des lieutemants Thomazo"), where "3 via email to Bob" must not.
_FOREIGN_PREFIX = (
    r"(?i:rue|rua|calle|carrer|viale|vicolo|piazza|travessa|praça|praca|chemin|allée|allee|"
    r"impasse|ulica|strada|calea)"
)
# Street types written as a word's ending (Germanic, Nordic, Finnish, Dutch) ...
_COMPOUND = (
    r"\p{Lu}\p{Ll}*(?:strasse|straße|gasse|weg|allee|platz|damm|ufer|laan|straat|gracht|plein|"
    r"steeg|dreef|kade|singel|gatan|gata|vägen|väg|gränd|torget|vej|gade|veien|vegen|vei|veg|"
    r"katu|tie|kuja|polku|väylä|utca|vegur|stræde|stræti|straeti|braut|stígur|stien|baan)"
)
# ... or as a word of their own after the name (Hungarian, Slavic, abbreviations).
_SUFFIX_WORD = (
    r"(?:utca|u\.|útja|út|tér|körút|ulica|cesta|ulice|náměstí|třída|[Ss]tr\.?|straße|strasse|"
    r"baan)"
)

# A lower-case word may stand before the type word: "Árpád fejedelem útja".
_STREET_NAME = rf"(?:{_NAME}[ ]+){{0,3}}(?:{_COMPOUND}|{_NAME}[ ]+(?:\p{{Ll}}+[ ]+)?{_SUFFIX_WORD})"
# A number is what makes these an address, before the name or after it.
PREFIX_STREET = (
    rf"(?<![\p{{L}}\d])(?:{_NUMBER}[ ]+{_PREFIX}\.?[ ]+{_NAME_WORDS}"
    rf"|{_PREFIX}\.?[ ]+{_NAME_WORDS},?[ ]+{_NUMBER}(?![\d])"
    rf"|{_NUMBER}[ ]+{_FOREIGN_PREFIX}\.?[ ]+(?:(?:{_NAME}|\p{{Ll}}+)[ ]+){{0,4}}{_NAME})"
)
SUFFIX_STREET = (
    rf"(?<![\p{{L}}\d])(?:{_STREET_NAME}\.?[ ]+{_NUMBER}(?![\d])"
    rf"|{_NUMBER}[ ]+{_STREET_NAME}(?![\p{{L}}]))"
)
# A street without a type word ("Allika 46", "172 Maneeži 75"): only where what follows shows
# an address, a unit ("Allika 46\n Suite 501"), or a house number in front and a place or a
# line break after ("50541 Mlýnská 1540\nTrancoso").
# Blanks and list or quote marks that start a line ("> ", "* ", "??? ").
_LINE_MARK = r"[ \t]*(?:[^\w\s]{1,3}[ \t]*)?"
_UNIT_TAIL = r"(?i:apt|apartment|suite|ste|unit|flat|floor|fl|box)\.?[ ]?#?\d{1,5}[A-Z]?"
BARE_STREET = (
    rf"(?<![\p{{L}}\d,.])(?:(?:{_NAME}[ ]+){{1,3}}{_NUMBER}\.?(?=[ ]*\n{_LINE_MARK}{_UNIT_TAIL}"
    rf"|[ ]+{_UNIT_TAIL})|\d{{1,5}}[ ]+(?:{_NAME}[ ]+){{1,3}}{_NUMBER}(?=,[ ]*\p{{Lu}}|[ ]*\n))"
)
# "Hoge Wei 32 St.": no type word of its own language, the English one after the number.
NUMBER_THEN_TYPE = (
    rf"(?<![\p{{L}}\d,.])(?:{_NAME}[ ]+){{1,3}}{_NUMBER}\.?[ ]+(?:St\.|Street|street)"
    r"(?![\p{L}])"
)
# A corner: two streets, each words and maybe a number, joined by "and" or "&".
_CORNER_STREET = rf"{_NAME}(?:[ ]+(?:{_NAME}|\p{{Ll}}+|{_NUMBER}\.?)){{0,4}}"
CORNER = (
    rf"(?<=\b(?i:corner|intersection)[ ]of[ ](?:the[ ])?){_CORNER_STREET}[ ]+(?:and|&)[ ]+"
    rf"{_NAME}(?:[ ]+(?:{_NAME}|{_NUMBER}\.?)){{0,3}}"
)
_FULL_TYPE = r"(?:Street|Avenue|Road|Boulevard|Lane)"
NAMED_STREET = rf"(?<=\b(?:on|at|along)[ ])(?:{_NAME}[ ]+){{2,3}}{_FULL_TYPE}(?![\p{{L}}])"
PO_BOX = r"\b(?i:P\.?[ ]?O\.?[ ]?Box|Post(?:al)?[ ]Office[ ]Box)[ ]\d{1,6}\b"
MILITARY = (
    r"\b(?i:(?:PSC|CMR|Unit)[ ]\d{3,5},?[ ]Box[ ]\d{3,5}|(?:USNS|USNV|USS|USCGC)[ ]\p{Lu}\p{L}+)"
    r"\s{1,3}(?i:(?:APO|FPO|DPO)[ ]A[AEP])[ ]\d{4,5}\b"
)
UNIT = r"\b(?:Apt|APT|apt|Apartment|Suite|Ste|Unit)\.?[ ]?#?\d{1,5}[A-Z]?\b"
UK_POSTCODE = r"\b(?:[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?[ ]\d[ABD-HJLNP-UW-Z]{2})\b"

# (pattern, score, whether capitalized everyday words in front are trimmed: "Visit
# Rákóczi út 66" -> "Rákóczi út 66"; not where the street type comes first, "Avenue ...").
_STREETS = [
    (timed(STREET_ADDRESS_REGEX, regex.M, name="us_street"), 0.6, False),
    (timed(PREFIX_STREET, name="prefix_street"), 0.6, False),
    (timed(SUFFIX_STREET, name="suffix_street"), 0.6, True),
    # Above spaCy's 0.85: it calls some of these a PERSON ("USS Mahler\nFPO AA 70489").
    (timed(MILITARY, name="military"), 0.9, False),
    (timed(PO_BOX, name="po_box"), 0.6, False),
    (timed(BARE_STREET, name="bare_street"), 0.55, True),
    (timed(NUMBER_THEN_TYPE, name="number_then_type"), 0.55, True),
    (timed(CORNER, name="corner"), 0.55, False),
    (timed(NAMED_STREET, name="named_street"), 0.5, True),
]
_FRAGMENTS = [(timed(UNIT, name="unit"), 0.5), (timed(UK_POSTCODE, name="uk_postcode"), 0.6)]

# What may follow a street. Same line after a space: a unit or a postcode only. After a comma
# or a line break: those, or a line made only of place words and codes.
# Hyphens join words ("Saint-Denis") rather than belong to one, so that each text has one
# way to match (a word that could also take the hyphen made this backtrack catastrophically).
_PLACE_WORD = r"\p{Lu}[\p{L}'’.]*"
# Lower-case words inside a place name: "Ostrov nad Ohrí", "Frankfurt am Main".
_PLACE_LINK = r"(?:nad|pod|am|an|der|im|sur|sous|les|lès|de|del|la|le|upon|on|en|di|da|do|na)"
_POSTCODE = r"(?:\d{4,6}(?:-\d{3,4})?|\d{3}[ ]\d{2}|[A-Z]{1,2}\d[A-Z\d]?[ ]\d[A-Z]{2})"
_PLACE = (
    rf"(?:{_POSTCODE}[ ]+)?{_PLACE_WORD}"
    rf"(?:[ -]+(?:{_PLACE_LINK}[ ]+)?(?:{_PLACE_WORD}|\(\p{{L}}+\))){{0,4}}"
    rf"(?:,?[ ]+(?:[A-Z]{{2}}|{_POSTCODE}))*"
)
_AFTER_SPACE = timed(rf"[ ]+(?:{_UNIT_TAIL}|{_POSTCODE})(?![\p{{L}}\d])", name="address_tail")
_AFTER_BREAK = timed(
    rf"(?:[ ]*,[ ]*|(?:[ \t]*\n){{1,2}}{_LINE_MARK})(?:{_UNIT_TAIL}|{_POSTCODE}|{_PLACE})"
    rf"(?=[ ]*(?:$|\n|,|\.(?:\s|$)))",
    regex.M,
    name="address_lines",
)
_UNIT_PART = timed(rf"{_UNIT_TAIL}$", name="address_unit")
_UNIT_INSIDE = timed(rf"(?<![\p{{L}}]){_UNIT_TAIL}(?![\p{{L}}\d])", name="address_unit_inside")
_LEADING_NUMBER = timed(r"(?<![\p{L}\d,.])\d{1,5}[ ]+$", name="address_number")
MAX_TAIL_PARTS = 5
_WORD = timed(r"[\p{L}\d][\p{L}\d'’.-]*", name="address_word")


class WorldAddressRecognizer(EntityRecognizer):
    def __init__(self) -> None:
        super().__init__(supported_entities=["STREET_ADDRESS"], name="WorldAddressRecognizer")

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        if "STREET_ADDRESS" not in entities:
            return []
        cased = capitalized_if_lowercase(text)
        lowercase, text = cased is not text, cased
        results = []
        for pattern, score, trim in _STREETS:
            for match in pattern.finditer(text):
                start = _trim_everyday_words(text, match.start(), match.end()) if trim else None
                if start is None:
                    start = match.start()
                start, end = extend(text, start, match.end())
                if lowercase and end == match.end() and not _UNIT_INSIDE.search(match.group()):
                    continue  # "the 3 people drive": a capitalized guess needs more evidence
                results.append(RecognizerResult("STREET_ADDRESS", start, end, score))
        for pattern, score in _FRAGMENTS:
            for match in pattern.finditer(text):
                start, end = extend(text, match.start(), match.end())
                results.append(RecognizerResult("STREET_ADDRESS", start, end, score))
        return _merge_overlapping(results)


def _merge_overlapping(results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Pieces of one address found by different patterns ("3482 Via Franscini" and "Franscini
    71 Suite 838") become one span, so that no piece loses to another and stays in the text."""
    merged: list[RecognizerResult] = []
    for r in sorted(results, key=lambda r: (r.start, -r.end)):
        last = merged[-1] if merged else None
        if last is not None and r.start < last.end:
            last.end, last.score = max(last.end, r.end), max(last.score, r.score)
        else:
            merged.append(RecognizerResult("STREET_ADDRESS", r.start, r.end, r.score))
    return merged


def _trim_everyday_words(text: str, start: int, end: int) -> int | None:
    """Where the street really starts once leading everyday words ("Visit", "The") are
    dropped; None when nothing but everyday words would be left."""
    common = common_words()
    for word in _WORD.finditer(text, start, end):
        if word.group().lower() not in common or word.group()[0].isdigit():
            return word.start()
    return None


def extend(text: str, start: int, end: int) -> tuple[int, int]:
    """Grow an address over a leading number and the unit, postcode and place lines after it."""
    line_start = text.rfind("\n", 0, start) + 1
    leading = _LEADING_NUMBER.search(text, line_start, start)
    if leading:
        start = leading.start()
    for _ in range(MAX_TAIL_PARTS):
        tail = _AFTER_SPACE.match(text, end) or _AFTER_BREAK.match(text, end)
        if not tail or tail.end() == end:
            break
        end = tail.end()
        part = tail.group()
        if "\n" in part and part[-1].isdigit() and not _UNIT_PART.search(part):
            break  # "Sweden 99178": a line ending in a postcode ends the address
    return start, end

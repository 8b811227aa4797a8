"""US street addresses, which Presidio has no recognizer for.

A house number, up to five street-name words, a street suffix (Street, St, Avenue, Ave, ...),
then optionally a unit (Apt 5B, Suite 200, #12) and "City, ST 12345". Case matters: the name
words and the suffix start with a capital, so "3 people drive" is not an address.
"""

from __future__ import annotations

import regex
from presidio_analyzer import Pattern, PatternRecognizer

SUFFIXES = (
    "Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl|Way|"
    "Terrace|Ter|Parkway|Pkwy|Highway|Hwy|Circle|Cir|Square|Sq|Trail|Trl|Plaza|Alley|"
    "Crescent|Loop|Row|Pike|Expressway|Freeway|"
    # More USPS (Publication 28) and UK street types.
    "Close|Gardens|Mews|Grove|Hill|Hills|Park|Green|Greens|Rise|Walk|View|Point|Points|Union|"
    "Flat|Flats|Pass|Route|Squares|Station|Bridge|Dale|Heights|Ridge|Run|Path|Estates|"
    "Meadow|Meadows|Mill|Mills|Springs|Valley|Crossing|Junction|Field|Fields|Manor|Port|"
    "Harbor|Haven|Shore|Shores|Causeway|Quay|Wharf|Gate|Gdns|Cres|Cl"
)
_NAME_WORD = r"(?:[A-Z][A-Za-z'.-]*|\d{1,3}(?:st|nd|rd|th))"
_DIRECTION = r"(?:(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West)\.?\s+)?"
_UNIT = (
    r"(?:,?\s+(?:Apt|Apartment|Suite|Ste|Unit|Floor|Fl|Room|Rm|Bldg|#)\.?\s*"
    r"(?:#\s*)?[A-Za-z0-9-]+)?"  # one way to match: "#" only with the blanks after it
)
_CITY_STATE_ZIP = (
    r"(?:,\s+[A-Z][A-Za-z]+(?:\s[A-Z][A-Za-z]+){0,2},\s+[A-Z]{2}(?:\s+\d{5}(?:-\d{4})?)?)?"
)
STREET_ADDRESS_REGEX = (
    r"\b\d{1,6}[A-Z]?\s+"
    + _DIRECTION
    + rf"(?:{_NAME_WORD}\s+){{1,5}}?"
    + rf"(?:{SUFFIXES})\b\.?"
    + _UNIT
    + _CITY_STATE_ZIP
)


class StreetAddressRecognizer(PatternRecognizer):
    def __init__(self, score: float = 0.6) -> None:
        super().__init__(
            supported_entity="STREET_ADDRESS",
            name="StreetAddressRecognizer",
            patterns=[Pattern("us_street_address", STREET_ADDRESS_REGEX, score)],
            context=["address", "street", "lives", "live", "ship", "mail", "office", "located"],
            # No IGNORECASE: capitals are what tell a street name from ordinary words.
            global_regex_flags=regex.M | regex.S,
        )

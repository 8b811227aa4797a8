"""Street addresses outside the US, completed over their unit, postcode and place lines."""

from __future__ import annotations

import pytest

from rag.privacy.recognizers.world_address import WorldAddressRecognizer, extend


@pytest.fixture(scope="module")
def recognizer() -> WorldAddressRecognizer:
    return WorldAddressRecognizer()


def _addresses(recognizer, text: str) -> list[str]:
    spans = sorted((r.start, r.end) for r in recognizer.analyze(text, ["STREET_ADDRESS"]))
    # The recognizer may report nested spans; the Anonymizer keeps the outer one.
    outer = [s for s in spans if not any(o != s and o[0] <= s[0] and s[1] <= o[1] for o in spans)]
    return [text[a:b] for a, b in outer]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("Send it to Via Roma 131, please.", "Via Roma 131"),
        ("Office: Rua João Pessoa 1636.", "Rua João Pessoa 1636"),
        ("Our office: 29 Rue de Tanger, Tunis", "29 Rue de Tanger, Tunis"),
        ("Wir sind in der Friedhofstrasse 33 zu finden.", "Friedhofstrasse 33"),
        ("Mail: Magasinsgatan 7, 111 48 Stockholm", "Magasinsgatan 7, 111 48 Stockholm"),
        ("Visit Rákóczi út 66 today", "Rákóczi út 66"),
        ("It is at Λεωφόρος Συγγρού 119 in Athens", "Λεωφόρος Συγγρού 119"),
        ("The shop at 90 Whitchurch Road is closed", "90 Whitchurch Road"),
        ("PSC 3294, Box 9168\nAPO AA 61487", "PSC 3294, Box 9168\nAPO AA 61487"),
        ("Write to P.O. Box 242 for details", "P.O. Box 242"),
        ("London SW1A 2AA is the postcode", "SW1A 2AA"),
        (
            "Ship to 28030 Edeby 55\n Apt. 297\n TYSTBERGA\n Sweden 99178\nThanks",
            "28030 Edeby 55\n Apt. 297\n TYSTBERGA\n Sweden 99178",
        ),
        (
            "Address: Wingertweg 126\n Suite 408\n Ependes\n\n Switzerland 82590",
            "Wingertweg 126\n Suite 408\n Ependes\n\n Switzerland 82590",
        ),
    ],
)
def test_finds_addresses(recognizer, text, address):
    assert address in _addresses(recognizer, text)


@pytest.mark.parametrize(
    "text",
    [
        "Windows 10 and Office 2019 are installed.",
        "Read Chapter 5 of the guide, then section 3.",
        "We met via Microsoft Teams on March 3.",
        "The 3 people drive to the office.",
        "Spring 2024 planning starts in Training 3.",
    ],
)
def test_ordinary_text_is_not_an_address(recognizer, text):
    assert _addresses(recognizer, text) == []


def test_a_sentence_after_the_street_is_not_swallowed():
    text = "Mail goes to Via Roma 131. Priya Raman answers."
    start = text.index("Via")
    assert text[slice(*extend(text, start, start + len("Via Roma 131")))] == "Via Roma 131"


# -- forms added for issue 13 (each failed before world_address.py learned it) -----------------


@pytest.mark.parametrize(
    ("text", "address"),
    [
        # A street corner: two streets joined by "and", with or without numbers or types.
        ("Meet me at the corner of Kossuth tér 12. and Elm Grove", "Kossuth tér 12. and Elm Grove"),
        ("Pick-up: corner of Birkenweg 4 and Harbor Loop St.", "Birkenweg 4 and Harbor Loop St."),
        # A street named in its own language, then an English type word after the number.
        ("Deliveries go to Korte Vliet 18 St. on Mondays", "Korte Vliet 18 St."),
        ("Anna lives on Wiesengrund 12 street.", "Wiesengrund 12 street"),
        # Number first, then a street type and words in lower case.
        ("The bus stops at 14 rue des petits Champs today", "14 rue des petits Champs"),
        # "Str." written with a capital; a Hungarian street "X útja" with a lowercase word.
        ("Our shop: 42 Ermou Str., Athens", "42 Ermou Str., Athens"),
        ("Drop it at Andrássy király útja 18. please", "Andrássy király útja 18"),
        # Place lines with lowercase linking words ("nad", "am", "sur").
        (
            "Kolínská 12\n Suite 4\n Brandýs nad Labem\n Czech Republic 25001",
            "Kolínská 12\n Suite 4\n Brandýs nad Labem\n Czech Republic 25001",
        ),
        # A street by name alone, of two words and a full type word, after "on" or "at".
        ("The early gigs on Maple Ridge Street were loud.", "Maple Ridge Street"),
        # A text written without capitals.
        ("ship to 4120 fourth avenue suite 210 calgary alberta", "4120 fourth avenue suite 210"),
    ],
)
def test_finds_more_address_forms(recognizer, text, address):
    found = _addresses(recognizer, text)
    assert any(address in a for a in found), found


@pytest.mark.parametrize(
    "text",
    [
        "We sent 3 via email to Bob Jones.",
        "He works on Wall Street.",
        "the 3 people drive to the office",
        "We looked at the corner of the page and the margin.",
        "Roads and bridges: 12 Street lamps were fixed.",
    ],
)
def test_new_forms_leave_ordinary_text_alone(recognizer, text):
    assert _addresses(recognizer, text) == []


def test_pieces_of_one_address_become_one_span(recognizer):
    text = "Billing: 3482 Via Tessin 71 Suite 838\n   Airolo"
    spans = recognizer.analyze(text, ["STREET_ADDRESS"])
    assert [text[r.start : r.end] for r in spans] == ["3482 Via Tessin 71 Suite 838\n   Airolo"]

"""Street addresses outside the US, completed over their unit, postcode and place lines."""

from __future__ import annotations

import pytest

from ingest.recognizers.world_address import WorldAddressRecognizer, extend


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

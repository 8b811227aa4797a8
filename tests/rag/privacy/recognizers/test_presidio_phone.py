"""Presidio's phone recognizer skipped where it can find only numbers too short to keep
(rag/privacy/recognizers/presidio_phone.py): the same numbers kept, less work."""

from __future__ import annotations

import pytest
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

from rag.config import Settings
from rag.privacy.anonymizer import build_analyzer
from rag.privacy.recognizers.phone_numbers import too_short_for_a_phone
from rag.privacy.recognizers.presidio_phone import GatedPhoneRecognizer, could_hold_a_phone

WITH_NUMBERS = [
    "Call (408) 996-1010 or +44 20 7946 0958 after 5 pm.",
    "Net sales 21,213 19,604; June 25, 2022: $27,502; (9,297) 163",
    "In 1685 and 2022, 12 of 40 were sold for $1,234.",
    "Tel. 030 1234 567, Fax 030 1234 568",
    "Ruf mich an: 0301 2345 (Berlin)",
    "Reach me at 555-0100 x 12 or 91-1646860",
    "2022 2021 2020 2019",
]


def _kept(recognizer, text: str) -> list[tuple]:
    found = recognizer.analyze(text, ["PHONE_NUMBER"])
    return sorted(
        (r.start, r.end, r.score) for r in found if not too_short_for_a_phone(text[r.start : r.end])
    )


@pytest.mark.parametrize("text", WITH_NUMBERS)
def test_keeps_what_the_plain_recognizer_keeps(text):
    assert _kept(GatedPhoneRecognizer.replacing(PhoneRecognizer()), text) == _kept(
        PhoneRecognizer(), text
    )


def test_skips_text_of_short_figures_only():
    assert not could_hold_a_phone("Net sales 21,213 19,604; June 25, 2022: $27,502; (9,297) 163")
    assert not could_hold_a_phone("In 1685 and 2022, 12 of 40 were sold for $1,234.")
    assert could_hold_a_phone("Call (408) 996-1010.")
    assert could_hold_a_phone("0301 2345")  # digits joined by a space count together
    gated = GatedPhoneRecognizer.replacing(PhoneRecognizer())
    assert gated.analyze("Net sales 21,213 on June 25, 2022", ["PHONE_NUMBER"]) == []


def test_the_analyzer_uses_it_under_presidios_name():
    """The same name, entities and version: the pipeline version (which lists them) stays."""
    recognizers = build_analyzer(Settings().anonymize).registry.recognizers
    phones = [r for r in recognizers if isinstance(r, PhoneRecognizer)]
    assert [type(r) for r in phones] == [GatedPhoneRecognizer]
    plain = PhoneRecognizer()
    assert (phones[0].name, phones[0].supported_entities, phones[0].version) == (
        plain.name,
        plain.supported_entities,
        plain.version,
    )
    assert phones[0].supported_regions == plain.supported_regions

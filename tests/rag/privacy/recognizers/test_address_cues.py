"""Streets of any form, found by the phrase that introduces an address."""

from __future__ import annotations

import pytest

from rag.privacy.recognizers.address_cues import AddressCueRecognizer


@pytest.fixture(scope="module")
def recognizer() -> AddressCueRecognizer:
    recognizer = AddressCueRecognizer()
    recognizer.load()
    return recognizer


def _addresses(recognizer, text: str) -> list[str]:
    return [text[r.start : r.end] for r in recognizer.analyze(text, ["STREET_ADDRESS"])]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # No street-type word, the number after the name.
        ("He lives on the north side of Okonjo Ibekwe 4417.", ["Okonjo Ibekwe 4417"]),
        # A corner without "corner of", then a lower-case word ends the street.
        ("Please return to Tamsin and Vrbovská 12 in case of trouble.", ["Tamsin and Vrbovská 12"]),
        ("my new address is Kvetná 9, Bratislava", ["Kvetná 9, Bratislava"]),
        # An answer after "address" earlier in the text; the unit and place lines join.
        (
            "Cool, what's the address? Is it open late? It's in Rüütli 12\n Apt. 7\n Tartu",
            ["Rüütli 12\n Apt. 7\n Tartu"],
        ),
        ("The bus station is on Vesterhavsgade 79", ["Vesterhavsgade 79"]),
        # A number written with a dot, then the place lines.
        (
            "Our offices are located at 51 Kossuth u. 12.\n Pécs\n Hungary 7621",
            ["51 Kossuth u. 12.\n Pécs\n Hungary 7621"],
        ),
    ],
)
def test_finds_streets_after_an_address_phrase(recognizer, text, expected):
    assert _addresses(recognizer, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Meet me at 5 pm at the Berlin desk.",
        "Details are located at Note 5 of the Notes to Consolidated Statements.",
        "The figures were sent to Sep 30 reviewers and moved to Level 3 inputs.",
        "Revenue in North America is at 12 percent of the total.",
        "Please return to the main menu in 2 minutes.",
        "the fine imposed on Intel, which was returned to Intel in February 2022. In April",
        "a class action based on Intel’s July 2020 announcement of 7nm product delays",
        "It was sent to Fabrikam Holdings on Sep 30 2022.",
        "he lives on joaquin suarez 2906",  # no capitals: no evidence beyond the cue
    ],
)
def test_leaves_other_text_alone(recognizer, text):
    assert _addresses(recognizer, text) == []


def test_only_for_address_requests(recognizer):
    assert recognizer.analyze("He lives on Okonjo Ibekwe 4417.", ["PERSON"]) == []

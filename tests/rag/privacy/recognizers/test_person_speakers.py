"""The speakers of a dialogue."""

from __future__ import annotations

import pytest

from rag.privacy.recognizers.person_speakers import PersonSpeakerRecognizer


@pytest.fixture(scope="module")
def recognizer() -> PersonSpeakerRecognizer:
    return PersonSpeakerRecognizer()


def _names(recognizer, text: str) -> list[str]:
    return [text[r.start : r.end] for r in recognizer.analyze(text, ["PERSON"])]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Margarethe: Where were you?\nOkwuosa: At home.\nHope: Really?",
            ["Margarethe", "Okwuosa", "Hope"],
        ),
        ('Siobhan:"Who is there?"\nTarquin: "Me."', ["Siobhan", "Tarquin"]),
    ],
)
def test_finds_speakers(recognizer, text, expected):
    assert _names(recognizer, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Note: figures are unaudited.\nTotal: 4,512\nSource: company filings",
        "Phone: 555 0100\nWebsite: example.com\nAddress: 1 Main St",
        "Margarethe: a single line is no dialogue.",
        "Q: Who approved it?\nA: The board.",
        "Less: imputed interest (7,939)\nTotal: 58,330\nLess: current portion",
    ],
)
def test_leaves_labels_alone(recognizer, text):
    assert _names(recognizer, text) == []

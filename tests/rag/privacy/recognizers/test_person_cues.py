"""Names that no list knows, found by what introduces them ("my name is", "Ms.") or by their
shape (given name, initial, surname)."""

from __future__ import annotations

import pytest

from rag.privacy.recognizers.person_cues import PersonCueRecognizer


@pytest.fixture(scope="module")
def recognizer() -> PersonCueRecognizer:
    return PersonCueRecognizer()


def _names(recognizer, text: str) -> list[str]:
    return [text[r.start : r.end] for r in recognizer.analyze(text, ["PERSON"])]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello, my name is Thandiwe Mokoena.", ["Thandiwe Mokoena"]),
        ("Her maiden name is Bell", ["Bell"]),  # an everyday word, but a name after the cue
        ("Friends usually call me Oyelaran", ["Oyelaran"]),
        ("Please ask ms. Brunhilde about the invoice", ["Brunhilde"]),
        ("Forwarded to Mr. Okonkwo-Adebayo today", ["Okonkwo-Adebayo"]),
        ("my name is tsvetelina karadzhova and I need help", ["tsvetelina karadzhova"]),
        ("mika: who are you?\nlena: i'm dragomira's sister", ["dragomira's"]),
        ("the report by Ignatius Q Pemberton-Smythe arrived", ["Ignatius Q Pemberton-Smythe"]),
        ("Signed: Radomila K. Vostrikova", ["Radomila K. Vostrikova"]),
    ],
)
def test_finds_names_by_cue_or_shape(recognizer, text, expected):
    assert _names(recognizer, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Call me Monday about the Q3 numbers.",
        "My name is not important here.",
        "The Vitamin D Deficiency study and the Plan B Budget were approved.",
        "Revenue in North America grew; see Exhibit A Summary.",
        "Unaudited figures for Sep are in Japanese Yen.",
        "The App Store and Mac sales rose.",
        "Turn left at 12 Oak Dr Springfield.",
        "We wrote it in MS Word and will miss Easter.",
        "I am Sorry, I am Late.",
        "I am brazilian but I live in Portugal.",
    ],
)
def test_leaves_business_text_alone(recognizer, text):
    assert _names(recognizer, text) == []


def test_only_for_person_requests(recognizer):
    assert recognizer.analyze("my name is Thandiwe", ["EMAIL_ADDRESS"]) == []

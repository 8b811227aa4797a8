"""Names found by what the text says of them."""

from __future__ import annotations

import pytest

from rag.privacy.recognizers.person_predicates import PersonPredicateRecognizer


@pytest.fixture(scope="module")
def recognizer() -> PersonPredicateRecognizer:
    return PersonPredicateRecognizer()


def _names(recognizer, text: str) -> list[str]:
    return [text[r.start : r.end] for r in recognizer.analyze(text, ["PERSON"])]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Qorvashi lives on Kalevankatu 4.", ["Qorvashi"]),
        ("Yuzuki Tanabe was born in Sendai.", ["Yuzuki Tanabe"]),
        ("Okwuosa is always on time. We can count on her.", ["Okwuosa"]),
        ("Thanks. Brennagh started painting early; his first show was in 1990.", ["Brennagh"]),
    ],
)
def test_finds_names_by_what_is_said_of_them(recognizer, text, expected):
    assert _names(recognizer, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Nvidia reported strong growth. Its chips sold out.",  # "it", not "her"
        "Unaudited results are shown. Management believes they are fair.",
        "The team lives on the third floor.",  # an everyday word
        "Revenue grew. She said the outlook is good.",  # "Revenue" is an everyday word
        "Japan is our market. He leads it.",  # a country
    ],
)
def test_leaves_other_words_alone(recognizer, text):
    assert _names(recognizer, text) == []

"""The name-list PERSON recognizer, on its own (no spaCy) and inside the Anonymizer."""

from __future__ import annotations

import pytest

from ingest.recognizers.person_names import PersonNameRecognizer
from ingest.recognizers.person_spans import only_everyday_words
from ingest.recognizers.word_lists import (
    common_words,
    distinctive_given_names,
    given_names,
    surnames,
)


@pytest.fixture(scope="module")
def recognizer() -> PersonNameRecognizer:
    return PersonNameRecognizer()


def _names(recognizer, text: str) -> list[str]:
    return [text[r.start : r.end] for r in recognizer.analyze(text, ["PERSON"])]


def test_word_lists_are_broad_and_keep_everyday_words_apart():
    assert len(given_names()) > 20_000 and len(surnames()) > 20_000
    assert len(common_words()) > 30_000
    # Names of many countries; everyday words are never distinctive given names.
    assert {"Ana", "Priya", "Tomasz", "Kenji", "Oluwafemi", "Łukasz"} <= given_names()
    assert {"Will", "Grace", "Rose"} <= given_names()
    assert not {"Will", "Grace", "Rose", "Sunday", "August"} & distinctive_given_names()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Employee Ana Souza, SSN on file.", ["Ana Souza"]),  # given name + surname word
        ("Refunds go to Oluwaseun Adeyemi.", ["Oluwaseun Adeyemi"]),  # word + known surname
        ("Signed by Maria J. Paavolainen today", ["Maria J. Paavolainen"]),  # an initial
        ("Ask Ana de Souza first", ["Ana de Souza"]),  # a particle
        ("Why is Priya so quiet?", ["Priya"]),  # a distinctive given name alone
        ("Will Pearson approved it", ["Will Pearson"]),  # everyday given name + surname
    ],
)
def test_finds_names(recognizer, text, expected):
    assert _names(recognizer, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "You will see. Grace periods apply from June to August.",  # everyday words alone
        "Lunch is served on Sunday in the Main Hall.",
        "priya raman wrote it in lowercase",  # no capitals: no shape to go on
        "Ana\nSouza",  # a line break ends a name
    ],
)
def test_leaves_everyday_capitalized_words(recognizer, text):
    assert _names(recognizer, text) in ([], ["Ana"])


def test_only_for_person_requests(recognizer):
    assert recognizer.analyze("Ana Souza", ["EMAIL_ADDRESS"]) == []


@pytest.mark.parametrize(
    ("value", "everyday"),
    [
        ("Discipline", True),
        ("Lunch", True),
        ("Salesperson", True),
        ("Will Smith", False),  # "Will" is a given name as well as a word
        ("Rose", False),
        ("Souza", False),
    ],
)
def test_only_everyday_words(value, everyday):
    assert only_everyday_words(value) is everyday


@pytest.mark.slow
def test_anonymizer_catches_what_spacy_misses_and_keeps_places(anonymizer):
    text = (
        "Refunds are paid for Oluwaseun Adeyemi. Employee Ana Souza, badge 4. "
        "Discipline matters. The team met in Florence."
    )
    result = anonymizer.anonymize(text)
    for leaked in ("Oluwaseun", "Adeyemi", "Ana", "Souza"):
        assert leaked not in result.text
    assert "Discipline matters" in result.text  # a common word is not a name
    assert "Florence" in result.text  # spaCy calls it a place: the given-name list defers
    assert result.counts["PERSON"] == 2

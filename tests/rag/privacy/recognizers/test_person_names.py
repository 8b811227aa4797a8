"""The name-list PERSON recognizer, on its own (no spaCy) and inside the Anonymizer."""

from __future__ import annotations

import pytest

from rag.privacy.recognizers.person_names import PersonNameRecognizer
from rag.privacy.recognizers.person_spans import only_everyday_words
from rag.privacy.recognizers.word_lists import (
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
        # A possessive ends the name: the title after it is no surname.
        ("the verses of Terence Vasquezian's Cautionary Tales", ["Terence Vasquezian's"]),
    ],
)
def test_finds_names(recognizer, text, expected):
    assert _names(recognizer, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "You will see. Grace periods apply from June to August.",  # everyday words alone
        "Lunch is served on Sunday in the Main Hall.",
    ],
)
def test_leaves_everyday_capitalized_words(recognizer, text):
    assert _names(recognizer, text) == []


def test_a_line_break_ends_a_name(recognizer):
    assert _names(recognizer, "Ana\nSouza") == ["Ana", "Souza"]  # two names, not one


def test_a_text_without_capitals_is_read_as_if_names_had_them(recognizer):
    assert _names(recognizer, "priya raman wrote it in lowercase") == ["priya raman"]
    # ... but only distinctive names start one: "my", "will" are words.
    assert _names(recognizer, "my driver's license will expire") == []


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


# -- surnames alone, names in lower case, and the business words that stay ---------------------


@pytest.fixture(scope="module")
def anonymizer():
    from rag.config import Settings
    from rag.privacy.anonymizer import Anonymizer

    return Anonymizer(Settings().anonymize, secret=b"names-test")


@pytest.mark.parametrize(
    ("text", "names"),
    [  # texts of the PII evaluation set (presidio-research, synthetic) that got through
        (
            "Is there a better crafted pop song on this list? Usamov and Bowers were precision "
            "engineers.",
            ["Bowers"],
        ),
        ("What's your last name? Boyle", ["Boyle"]),
        ("What's your last name? Jónás", ["Jónás"]),
        ("Unlike the Sokolov novel, it's not about necrophilia. A brilliant piece.", ["Sokolov"]),
        ("a 1996 film directed by Bryan Maclean and starring Maclean", ["Maclean"]),
        ("Why is Rebecca so impulsive?", ["Rebecca"]),  # spaCy calls her a place
        ("follow up with patricia desrosiers in a couple of months.", ["patricia", "desrosiers"]),
        ("follow up with monika žilková in a couple of months.", ["monika", "žilková"]),
        ("my name is borna jerković but everyone calls me borna", ["jerković"]),
        ("selma is from stillwater supercomputing inc.", ["selma"]),
        ("they had 6: silvana, adam, christopher, kristina, chad and caleb.", ["caleb"]),
        ("she was born on 8/5/1989. her maiden name is nyberg", ["nyberg"]),
    ],
)
def test_surnames_alone_and_names_in_lower_case(anonymizer, text, names):
    result = anonymizer.anonymize(text).text
    assert [n for n in names if n in result] == []


@pytest.mark.parametrize(
    "text",
    [
        "Net sales in North America rose 8% in Sep. (Unaudited)",
        "Condensed Consolidated Statements of Operations (Unaudited), Three Months Ended Sep 24",
        "The Company's Chief Executive Officer and Board of Directors approved the plan.",
        "Operating income in Greater China and Rest of Asia Pacific fell.",
        "my driver's license number is on the form",
        "i will be travelling to france next week for the audit",
        "Visit us in Washington next week.",
    ],
)
def test_business_text_keeps_its_words(anonymizer, text):
    assert [s for s in anonymizer.find(text) if s.entity_type == "PERSON"] == []

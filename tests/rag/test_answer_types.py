"""What a question asks for, and whether a sentence holds it (a feature of rag/quotes.py)."""

from __future__ import annotations

import pytest

from rag.answer_types import asked_type, holds_type


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many days of leave do I get?", "number"),
        ("How much is the gym subsidy?", "number"),
        ("What percentage of staff work remotely?", "number"),
        ("When was the company founded?", "date"),
        ("In what year did the Normans arrive?", "date"),
        ("Who approves travel?", "person"),
        ("Whose signature is needed?", "person"),
        ("Where is the head office?", "place"),
        ("Which country were the Normans from?", "place"),
        ("What is the expense policy?", None),
    ],
)
def test_asked_type(question, kind):
    assert asked_type(question) == kind


def test_a_number_in_digits_or_words():
    assert holds_type("number", "Employees get 27 days.", "How many days?")
    assert holds_type("number", "Employees get twenty days.", "How many days?")
    assert not holds_type("number", "Employees get leave.", "How many days?")


def test_a_date_is_a_year_a_month_or_a_century():
    assert holds_type("date", "It was founded in 1998.", "When was it founded?")
    assert holds_type("date", "It opened in March.", "When did it open?")
    assert holds_type("date", "In the 10th century they came.", "When did they come?")
    assert not holds_type("date", "It was founded long ago.", "When was it founded?")


def test_a_name_the_question_does_not_already_give():
    question = "Who made Ralph earl?"
    assert holds_type("person", "Edward made Ralph earl of Hereford.", question)
    # The sentence's first word is capitalized anyway; Ralph is the question's own name.
    assert not holds_type("person", "Then the king made Ralph an earl.", question)


def test_no_kind_holds_nothing():
    assert not holds_type(None, "Employees get 27 days in 2024.", "What is leave?")

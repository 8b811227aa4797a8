"""The question half of the grounding check: what counts as the same word, what as no answer."""

from __future__ import annotations

import pytest

from rag.grounding_question import refuses, roots


@pytest.mark.parametrize(
    ("one", "other"),
    [("ruled", "rule"), ("located", "location"), ("invaded", "invade"), ("Petrela's", "Petrela")],
)
def test_forms_of_one_word_meet(one, other):
    assert roots(one) == roots(other) != set()


def test_words_about_the_answer_itself_are_not_content():
    assert roots("The answer to this question, according to the sources") == set()


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ("I could not find this in the documents.", True),
        ("The sources do not mention it.", True),
        ("Rollo was the Norse leader.", False),
    ],
)
def test_an_answer_that_found_nothing(text, refused):
    assert refuses(text) is refused

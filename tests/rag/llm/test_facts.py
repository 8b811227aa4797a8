"""The words an answer may state as facts, and the rule that holds it to them."""

from __future__ import annotations

import pytest

from rag.llm.facts import StatedFacts, facts_in


def test_names_numbers_and_pseudonyms_are_facts_other_words_are_not():
    facts = facts_in(["Rollo signed in 911 with <PERSON_0123456789abcdef>; 30,000 men came."])
    assert facts == ["Rollo", "911", "<PERSON_0123456789abcdef>", "30,000"]


def test_a_possessive_and_a_hyphenated_name_give_their_parts_too():
    facts = facts_in(["Rollo's treaty of Saint-Clair-sur-Epte"])
    assert {"Rollo's", "Rollo", "Saint-Clair-sur-Epte", "Saint", "Clair", "Epte"} <= set(facts)
    assert "sur" not in facts


def test_mixed_case_words_and_ordinals_are_facts():
    assert facts_in(["the iPhone sold in the 10th week, U.S. only"]) == ["iPhone", "10th", "U.S"]


def test_a_citation_mark_is_not_a_figure():
    assert facts_in(["[2] Staff get leave [13]."]) == ["Staff"]


def test_each_fact_once_in_the_order_first_seen():
    assert facts_in(["Lyon 27", "27 Lyon Paris"]) == ["Lyon", "27", "Paris"]


RULE = StatedFacts(
    facts_in(
        [
            "Rollo's men, 30,000 of them, left Saint-Clair-sur-Epte in 911 "
            "for the U.S. with <PERSON_00ff> and AT&T; 12.5% paid $5."
        ]
    )
)


@pytest.mark.parametrize(
    "answer",
    [
        "Rollo's men left in 911.",
        "The answer is 30,000 [2].",
        "They left Saint-Clair for the U.S. with <PERSON_00ff>.",
        'In 911, 12.5% of them paid $5 to AT&T ("the fee").',
        "Rollo led them, e.g. the well-known men; they didn't stay.",
        "I could not find this in the documents.",
    ],
)
def test_an_answer_stating_only_given_facts_is_allowed_at_every_step(answer):
    assert all(RULE.allows(answer[:end]) for end in range(len(answer) + 1))
    assert RULE.ends(answer)


@pytest.mark.parametrize(
    "answer",
    [
        "The answer is 2.",  # a number nobody wrote
        "Rollo of Northumbria led them.",  # a name nobody wrote
        "They left in 912.",
        "It was <PERSON_00aa>.",  # another pseudonym
        "Rollo left.\nThen more.",  # one short text: no line break
        "The 30,001 men.",
    ],
)
def test_an_invented_name_or_number_is_refused_as_soon_as_it_is_written(answer):
    assert not RULE.allows(answer)


def test_a_word_still_being_written_may_end_only_once_it_is_allowed():
    assert RULE.allows("They left Sain")  # on its way to Saint
    assert not RULE.ends("They left Sain")
    assert RULE.allows("Rollo'") and RULE.ends("Rollo's")
    assert RULE.allows("see [") and not RULE.ends("see [")


@pytest.mark.parametrize("cut", [3, 9, 14, 22, 30])
@pytest.mark.parametrize("rest", ["911.", "912.", "Saint-Clair [2].", "Rollo's\nmen"])
def test_only_the_unfinished_word_decides_what_may_follow(cut, rest):
    start = "They left in Rollo's 30,000 men "[:cut]
    assert RULE.allows(start)
    tail = StatedFacts.unfinished(start)
    assert RULE.allows(tail + rest) == RULE.allows(start + rest)
    assert RULE.ends(tail + rest) == RULE.ends(start + rest)


def test_every_character_beyond_ascii_the_rule_allows_is_listed_as_such():
    # The llama.cpp processor judges a character split over byte tokens by this list
    # (rag/llm/llama_facts.py): a character the rule allows but the list lacks could not be
    # written in pieces. (Any Unicode digit once passed as a citation mark: "[٣]".)
    rule = StatedFacts(["Π1", "Jumièges"])
    contexts = ("It is ", "It is a", "It is [", "It is Jumi", "It is 5", "It is Π")
    allowed = {
        chr(point)
        for point in range(0x80, 0x3000)
        for context in contexts
        if rule.allows(context + chr(point))
    }
    assert allowed <= set(rule.beyond_ascii)
    assert {"è", "Π", "ÿ", "’", "€"} <= allowed

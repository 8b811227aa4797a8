"""The words an answer may state as facts, and the grammar that holds it to them."""

from __future__ import annotations

import pytest

from rag.llm.fact_grammar import SENTENCE_OPENERS, fact_grammar, facts_in


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


@pytest.mark.slow
def test_llama_cpp_reads_the_grammar():
    from llama_cpp import LlamaGrammar

    grammar = fact_grammar(facts_in(['He said "Stop" at 5\\6 in O\'Neill’s <PERSON_00ff>']))
    assert LlamaGrammar.from_string(grammar, verbose=False) is not None
    assert all(f'"{word}"' in grammar for word in SENTENCE_OPENERS)

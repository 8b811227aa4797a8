"""The facts rule while llama.cpp generates (rag/llm/llama_facts.py), on the embedded model's own
vocabulary: the scores are set by hand so each test decides which token the model would pick."""

from __future__ import annotations

import numpy as np
import pytest

from rag.llm.llama_facts import FactsProcessor, TokenTexts

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def llm(generator):
    return generator._llm


@pytest.fixture(scope="module")
def tokens(llm) -> TokenTexts:
    return TokenTexts(llm)


def ids(llm, text: str) -> list[int]:
    return llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)


def kept_after(llm, tokens, facts: list[str], answer: list[int], favoured: int) -> bool:
    """Whether the processor leaves `favoured`, the model's first choice, after `answer`."""
    processor = FactsProcessor(tokens, facts)
    prompt = np.array(ids(llm, "Question: which base?\nAnswer:"))
    scores = np.zeros(llm.n_vocab(), dtype=np.float32)
    processor(prompt, scores)  # the first call sees the prompt alone
    scores[favoured] = 10.0
    kept = processor(np.array([*prompt, *answer]), scores)
    return bool(np.isfinite(kept[favoured]))


def test_a_byte_of_a_character_no_fact_holds_is_refused(llm, tokens):
    # "同" is two tokens of the vocabulary (bytes e5 90, then 8c): the first has no text, and
    # it passed as "" before, so an answer could end "Fort M同" (seen on squad-dev).
    first_byte, last_byte = ids(llm, "同")
    answer = ids(llm, "The naval base was called Fort M")
    assert not kept_after(llm, tokens, ["Fort", "Matanzas"], answer, first_byte)
    assert not kept_after(llm, tokens, ["Fort", "Matanzas"], [*answer, first_byte], last_byte)


def test_a_fact_spelled_in_bytes_can_still_be_written(llm, tokens):
    # "Π1" is the bytes ce, a0, then "1": each piece is allowed where the fact goes on.
    pieces = ids(llm, " Π1")
    facts = ["Π1"]
    answer = ids(llm, "It is")
    for at, piece in enumerate(pieces):
        assert kept_after(llm, tokens, facts, [*answer, *pieces[:at]], piece), at


def test_the_answer_cannot_end_inside_a_character(llm, tokens):
    answer = ids(llm, "It is Π1")[:-2]  # "It is" and the first byte of "Π"
    assert tokens.text_and_pending(answer)[1]
    assert not kept_after(llm, tokens, ["Π1"], answer, tokens.eos)
    assert kept_after(llm, tokens, ["Π1"], ids(llm, "It is Π1"), tokens.eos)


def test_a_lower_case_letter_spelled_in_bytes_is_a_free_word(llm, tokens):
    first_byte, last_byte = ids(llm, "ÿ")  # c3, then bf
    answer = ids(llm, "It was a ma")
    assert kept_after(llm, tokens, [], answer, first_byte)
    assert kept_after(llm, tokens, [], [*answer, first_byte], last_byte)


def test_a_control_token_is_no_part_of_an_answer(llm, tokens):
    # Token 0 is <|endoftext|>: it has no text, and llama.cpp would end the answer on it
    # without the rule's say.
    assert not tokens.bytes_of(0)
    assert not kept_after(llm, tokens, [], ids(llm, "It is"), 0)

"""What the embedder reads for a pseudonym: a stand-in of name-like words, the same wherever the
token is, and a way back from the readable text to the original for the chunker."""

from __future__ import annotations

import numpy as np
import pytest

from rag.config import EmbeddingSettings
from rag.db.fulltext.base import PSEUDONYM
from rag.embed.inputs import PrefixedEmbedding
from rag.embed.pseudonym_words import (
    GIVEN_NAMES,
    SURNAMES,
    StandInOffsets,
    readable,
    stand_in,
)

ADA = "<PERSON_0123456789abcdef>"
BOB = "<PERSON_fedcba9876543210>"
PHONE = "<PHONE_NUMBER_00000000000000ff>"


def test_a_person_reads_as_a_given_name_and_a_surname():
    words = stand_in("PERSON", "0123456789abcdef").split()
    assert len(words) == 2 and words[0] in GIVEN_NAMES and words[1] in SURNAMES


def test_the_same_token_reads_the_same_and_two_tokens_differently():
    assert readable(f"{ADA} met {BOB}.") == readable(f"{ADA} met {BOB}.")
    first, second = readable(f"{ADA} met {BOB}.").removesuffix(".").split(" met ")
    assert first != second
    assert readable(f"Where was {ADA} born?").startswith(f"Where was {first} born")


def test_another_type_reads_as_its_words_and_a_surname():
    assert readable(f"call {PHONE}") == f"call phone number {SURNAMES[0xFF % len(SURNAMES)]}"


def test_text_without_pseudonyms_is_unchanged():
    text = "Kublai Khan <not a token> PERSON_0123"
    assert readable(text) == text


def test_stand_ins_spread_over_the_name_pairs():
    digests = [f"{n * 7919:016x}" for n in range(2000)]
    assert len({stand_in("PERSON", d) for d in digests}) > 1900
    assert len(GIVEN_NAMES) == len(set(GIVEN_NAMES)) and len(SURNAMES) == len(set(SURNAMES))
    assert not set(GIVEN_NAMES) & set(SURNAMES)


@pytest.mark.parametrize("text", [f"{ADA} met {BOB}'s son.", f"x{ADA}y and {PHONE}", "no token"])
def test_positions_in_the_readable_text_map_back(text):
    read = StandInOffsets(text)
    assert read.text == readable(text)
    assert read.original(0) == 0 and read.original(len(read.text), end=True) == len(text)
    for position, char in enumerate(read.text):
        start, end = read.original(position), read.original(position + 1, end=True)
        # A character outside a stand-in is itself; one inside spans its whole pseudonym.
        assert text[start:end] == char or PSEUDONYM.fullmatch(text[start:end]), position
    hidden = [read.original(p) for p in range(len(read.text))]
    assert hidden == sorted(hidden)


class _Recording(PrefixedEmbedding):
    """A backend that records what it was given to encode."""

    def __init__(self, **update) -> None:
        self.settings = EmbeddingSettings().model_copy(update=update)
        self.seen: list[str] = []

    def _encode(self, texts, prefix):
        self.seen.extend(prefix + text for text in texts)
        return np.zeros((len(texts), 2), dtype=np.float32)


def test_passages_and_questions_are_embedded_with_stand_ins_and_the_switch_turns_it_off():
    on = _Recording(query_prefix="query: ", pseudonym_stand_ins=True)
    on.embed([f"{ADA} signed."])
    on.embed_query([f"Who is {ADA}?"])
    name = stand_in("PERSON", "0123456789abcdef")
    assert on.seen == [f"{name} signed.", f"query: Who is {name}?"]
    off = _Recording()  # the default
    off.embed([f"{ADA} signed."])
    assert off.seen == [f"{ADA} signed."]
    with pytest.raises(TypeError):
        on.embed("a str")

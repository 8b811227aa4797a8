"""The tokens of the words of a hidden multi-word name, for the chunk header."""

from __future__ import annotations

from rag.privacy.name_parts import NAME_TYPES, name_parts, parts_in, plain_words
from rag.privacy.operators.pseudonymize import PseudonymizeOperator

TOKENS = PseudonymizeOperator(b"k" * 32)


def token(kind: str, value: str) -> str:
    return TOKENS.operate(kind, value)


def test_each_word_of_a_name_gets_the_token_it_has_alone():
    newton = token("PERSON", "Isaac Newton")
    parts = name_parts({newton: "Isaac Newton"}, TOKENS.operate)
    # The same token as a question's "Newton" found (or looked up) as a name of its own.
    assert parts == {newton: (token("PERSON", "Isaac"), token("PERSON", "newton"))}


def test_one_word_names_other_types_initials_and_stopwords_add_nothing():
    originals = {
        token("PERSON", "Kublai"): "Kublai",
        token("EMAIL_ADDRESS", "a.b@c.de"): "a.b@c.de",
        token("STREET_ADDRESS", "12 Main Street"): "12 Main Street",
    }
    assert name_parts(originals, TOKENS.operate) == {}
    initial = token("PERSON", "J. Watt")
    the_great = token("PERSON", "Alexander the Great's")
    parts = name_parts({initial: "J. Watt", the_great: "Alexander the Great's"}, TOKENS.operate)
    assert initial not in parts  # "J." names no one alone: one word left
    assert parts[the_great] == (token("PERSON", "Alexander"), token("PERSON", "Great"))


def test_a_chunk_gets_the_parts_of_its_names_once_and_not_what_it_says_already():
    khan, kublai, genghis = (token("PERSON", v) for v in ("Khan", "Kublai", "Genghis"))
    kublai_khan, genghis_khan = "<PERSON_00000000000000aa>", "<PERSON_00000000000000bb>"
    parts = {kublai_khan: (kublai, khan), genghis_khan: (genghis, khan)}
    text = f"{kublai_khan} and {genghis_khan}, grandson of {genghis}"
    assert parts_in(text, parts) == [kublai, khan]
    assert parts_in("no names here", parts) == []


def test_a_word_the_document_says_plainly_is_no_part():
    # A passage on the Huguenots that hides "Huguenot Street": a question's "Huguenot" must stay
    # a word, not become a token only that header holds (rag/stored_values.py would swap it).
    street = token("PERSON", "Huguenot Street Smith")
    text = f"The Huguenot refugees settled on {street}."
    parts = name_parts(
        {street: "Huguenot Street Smith"}, TOKENS.operate, NAME_TYPES, plain_words(text)
    )
    assert parts == {street: (token("PERSON", "Street"), token("PERSON", "Smith"))}
    assert "huguenot" in plain_words(text) and "person" not in plain_words(text)
    assert (
        name_parts({street: "Huguenot Street"}, TOKENS.operate, NAME_TYPES, {"huguenot", "street"})
        == {}
    )

"""The tokens of the words of a hidden multi-word name, for the chunk header."""

from __future__ import annotations

from rag.privacy.name_parts import NAME_TYPES, lowercase_words, name_parts, parts_in
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


def test_titles_peoples_and_the_documents_common_nouns_are_no_parts():
    # "Huguenot" would become a header token, and rag/stored_values.py would then search every
    # question's "Huguenot" as that token, never as the word the other passages say.
    street = token("PERSON", "Huguenot Street Smith")
    parts = name_parts({street: "Huguenot Street Smith"}, TOKENS.operate, NAME_TYPES)
    assert parts == {street: (token("PERSON", "Street"), token("PERSON", "Smith"))}
    marie = token("PERSON", "Marie de France")
    assert name_parts({marie: "Marie de France"}, TOKENS.operate) == {
        marie: (token("PERSON", "Marie"),)
    }
    king = token("PERSON", "King Charles")
    assert name_parts({king: "King Charles"}, TOKENS.operate) == {
        king: (token("PERSON", "Charles"),)
    }
    # A word the document writes in lower case is a common noun there; a capitalized one
    # ("Rankine cycle") still names the person.
    text = f"The {king} of the smiths and the Rankine cycle."
    assert lowercase_words(text) == {"of", "the", "smiths", "and", "cycle"}
    rankine = token("PERSON", "William Rankine")
    smith = token("PERSON", "Jack Smiths")
    found = name_parts(
        {rankine: "William Rankine", smith: "Jack Smiths"},
        TOKENS.operate,
        NAME_TYPES,
        lowercase_words(text),
    )
    assert found[rankine] == (token("PERSON", "William"), token("PERSON", "Rankine"))
    assert found[smith] == (token("PERSON", "Jack"),)

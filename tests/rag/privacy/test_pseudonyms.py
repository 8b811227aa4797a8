"""Which of the asker's values an answer may show, and putting them in place of their pseudonyms
(the streamed form is tested with rag.answer.restore_stream in tests/rag/test_answer.py)."""

from rag.privacy.pseudonyms import asker_values, restore_pseudonyms

PERSON = "<PERSON_1234abcd>"
EMAIL = "<EMAIL_ADDRESS_0badf00d>"
ORIGINALS = {PERSON: "Alice Martin", EMAIL: "alice@example.com"}


def test_asker_values_are_capped_newest_turn_first():
    question = {"<PERSON_a>": "Ann", "<PERSON_b>": "Bo"}
    earlier = {"<PERSON_c>": "Cy", "<PERSON_a>": "Ann"}
    assert asker_values([question, earlier], 3) == {
        "<PERSON_a>": "Ann",
        "<PERSON_b>": "Bo",
        "<PERSON_c>": "Cy",
    }
    assert asker_values([question, earlier], 1) == {"<PERSON_a>": "Ann"}
    assert asker_values([earlier, question], 2) == {"<PERSON_c>": "Cy", "<PERSON_a>": "Ann"}
    assert asker_values([question], 0) == {}


def test_restore_pseudonyms():
    text = f"{PERSON} wrote to {EMAIL}; {PERSON} again. <PERSON_ffffffff> stays."
    assert restore_pseudonyms(text, ORIGINALS) == (
        "Alice Martin wrote to alice@example.com; Alice Martin again. <PERSON_ffffffff> stays."
    )
    assert restore_pseudonyms(text, {}) == text

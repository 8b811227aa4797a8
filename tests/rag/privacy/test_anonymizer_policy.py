"""The anonymize policy: operators, YAML recognizers, allow/deny lists, street addresses,
the PERSON filter and analysis in windows."""

from __future__ import annotations

import re

import pytest

from rag.config import REPO_ROOT, AnonymizeSettings, RecognizerSettings, Settings
from rag.privacy.anonymizer import Anonymizer
from rag.privacy.operators import KeepOperator, MaskOperator, PseudonymizeOperator, RedactOperator
from rag.privacy.recognizers.street_address import StreetAddressRecognizer
from rag.privacy.recognizers.yaml_recognizers import recognizer_from_settings

EMPLOYEE = RecognizerSettings(
    name="employee_number",
    entity_type="EMPLOYEE_ID",
    patterns=[{"regex": r"\bEMP-\d{6}\b", "score": 0.6}],
    context=["employee"],
)


def _anonymizer(**policy) -> Anonymizer:
    settings = Settings().anonymize.model_copy(update=policy)
    return Anonymizer(settings, secret=b"policy-test")


# -- operators -------------------------------------------------------------------------------


def test_pseudonymize_is_keyed_and_normalized():
    a, b = PseudonymizeOperator(b"key-a"), PseudonymizeOperator(b"key-b")
    token = a.operate("PHONE_NUMBER", "(206) 555-0142")
    assert token.startswith("<PHONE_NUMBER_") and token.endswith(">")
    assert a.operate("PHONE_NUMBER", "206-555-0142") == token
    assert a.operate("PERSON", "Jane  DOE") == a.operate("PERSON", "jane doe")
    assert b.operate("PHONE_NUMBER", "206-555-0142") != token


def test_pseudonyms_have_at_least_64_bits():
    """At 100k values of one type 32 bits make a shared pseudonym likely (birthday bound)."""
    digest = PseudonymizeOperator(b"key").operate("PERSON", "Jane Doe")[len("<PERSON_") : -1]
    assert re.fullmatch(r"[0-9a-f]+", digest) and len(digest) * 4 >= 64


def test_a_store_of_older_pseudonyms_is_asked_in_their_length(anonymizer):
    """The same key makes the older, shorter token: the first hex digits of the new one."""
    new = anonymizer.anonymize("Ask Priya Raman.")
    old = anonymizer.with_pseudonym_chars(8).anonymize("Ask Priya Raman.")
    (new_token,) = new.originals
    (old_token,) = old.originals
    assert len(old_token) == len("<PERSON_>") + 8
    assert new_token.startswith(old_token[:-1]) and len(new_token) > len(old_token)
    assert anonymizer.pseudonym_chars * 4 >= 64


@pytest.mark.parametrize(
    ("entity_type", "value", "masked"),
    [
        ("CREDIT_CARD", "4111 1111 1111 1111", "**** **** **** 1111"),
        ("US_SSN", "536-22-8741", "***-**-8741"),
        ("PHONE_NUMBER", "+1 (206) 555-0142", "+* (***) ***-0142"),
        ("IBAN_CODE", "DE89 3704 0044 0532 0130 00", "**** **** **** **** **30 00"),
        ("PERSON", "Jane Doe", "**** ***"),
        ("EMAIL_ADDRESS", "jd@x.org", "********"),
        ("US_SSN", "1234567", "*******"),  # short: never shown whole
    ],
)
def test_mask(entity_type, value, masked):
    assert MaskOperator().operate(entity_type, value) == masked


def test_redact_and_keep():
    assert RedactOperator().operate("PERSON", "Jane Doe") == "<PERSON>"
    assert KeepOperator().operate("PERSON", "Jane Doe") == "Jane Doe"


# -- recognizers -----------------------------------------------------------------------------


def test_yaml_recognizer_finds_its_pattern_and_context_raises_the_score():
    recognizer = recognizer_from_settings(EMPLOYEE)
    plain = recognizer.analyze("ref EMP-004521 and EMP-12345", ["EMPLOYEE_ID"])
    assert [(r.start, r.end) for r in plain] == [(4, 14)]
    assert plain[0].score == pytest.approx(0.6)


def test_yaml_recognizers_come_from_the_config_file():
    settings = Settings().anonymize
    assert any(r.entity_type == "EMPLOYEE_ID" for r in settings.recognizers)
    text = "Her employee number is EMP-118734."
    result = Anonymizer(settings, secret=b"k").anonymize(text)
    assert "EMP-118734" not in result.text
    assert result.counts["EMPLOYEE_ID"] == 1


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("She lives at 1234 Maple Street, Apt 5B in town.", "1234 Maple Street, Apt 5B"),
        ("Ship it to 77 Sunset Blvd. today", "77 Sunset Blvd."),
        (
            "Office: 500 W Madison St, Suite 1200, Chicago, IL 60661.",
            "500 W Madison St, Suite 1200, Chicago, IL 60661",
        ),
        ("Meet at 9 East 42nd Street now", "9 East 42nd Street"),
        ("He moved to 42 Oak Lane last year", "42 Oak Lane"),
    ],
)
def test_street_address_recognizer(text, address):
    found = StreetAddressRecognizer().analyze(text, ["STREET_ADDRESS"])
    assert [text[r.start : r.end] for r in found] == [address]


@pytest.mark.parametrize(
    "text", ["3 people drive to work", "In 2019 the Street team won", "page 4 of the Guide"]
)
def test_street_address_recognizer_ignores_ordinary_text(text):
    assert StreetAddressRecognizer().analyze(text, ["STREET_ADDRESS"]) == []


# -- the policy end to end -------------------------------------------------------------------

TEXT = (
    "Priya Raman (priya.raman@example.com, phone 206-555-0142) paid with card "
    "4111 1111 1111 1111 from server 192.168.14.27."
)


def test_default_policy_pseudonymizes_everything(anonymizer):
    result = anonymizer.anonymize(TEXT)
    for value in ("Priya Raman", "priya.raman", "206-555-0142", "4111", "192.168.14.27"):
        assert value not in result.text
    assert result.counts == {
        "PERSON": 1,
        "EMAIL_ADDRESS": 1,
        "PHONE_NUMBER": 1,
        "CREDIT_CARD": 1,
        "IP_ADDRESS": 1,
    }
    assert set(result.originals.values()) >= {"Priya Raman", "206-555-0142"}


def test_policy_per_type():
    anonymizer = _anonymizer(
        operators={"CREDIT_CARD": "mask", "IP_ADDRESS": "redact", "EMAIL_ADDRESS": "keep"}
    )
    result = anonymizer.anonymize(TEXT)
    assert "**** **** **** 1111" in result.text
    assert "<IP_ADDRESS>" in result.text and "192.168" not in result.text
    assert "priya.raman@example.com" in result.text  # keep: detected, counted, not replaced
    assert result.counts["EMAIL_ADDRESS"] == 1
    assert "<PERSON_" in result.text and "Priya" not in result.text
    # Only pseudonyms map back to one value; masked and redacted text is not restorable.
    assert all(token.startswith(("<PERSON_", "<PHONE_NUMBER_")) for token in result.originals)


def test_allow_list_is_never_touched_case_insensitive():
    text = "Ask Northwind Robotics or Jane Whitfield about Helios."
    plain = _anonymizer().anonymize(text)
    allowed = _anonymizer(allow_list=["helios", "NORTHWIND ROBOTICS", "jane whitfield"])
    result = allowed.anonymize(text)
    assert "Jane Whitfield" not in plain.text
    assert result.text == text


def test_deny_list_is_always_an_entity():
    text = "Project Bluebird is run by the team; bluebird ships soon."
    result = _anonymizer(deny_list={"PROJECT_CODE": ["Bluebird"]}).anonymize(text)
    assert "luebird" not in result.text
    assert result.counts["PROJECT_CODE"] == 2


def test_a_denied_person_is_kept_even_when_it_is_an_everyday_word():
    # The filters that drop spaCy's guesses ("Discipline", business words) must not drop
    # what the admin listed: the deny list is always an entity.
    text = "The Lighthouse project is run by the data team."
    result = _anonymizer(deny_list={"PERSON": ["Lighthouse"]}).anonymize(text)
    assert "Lighthouse" not in result.text
    assert result.counts["PERSON"] == 1


def test_per_type_min_score():
    weak = RecognizerSettings(
        name="employee_number",
        entity_type="EMPLOYEE_ID",
        patterns=[{"regex": r"\bEMP-\d{6}\b", "score": 0.45}],
    )
    text = "Ref EMP-118734 tomorrow."  # scored 0.45, below min_score 0.5
    lowered = _anonymizer(recognizers=[weak], min_scores={"EMPLOYEE_ID": 0.4})
    assert "118734" not in lowered.anonymize(text).text
    assert "118734" in _anonymizer(recognizers=[weak], min_scores={}).anonymize(text).text


def test_person_filter_drops_capitalized_common_words():
    text = (
        "Screens must be locked. Lock your screens when you leave. "
        "Git is our version control; use git for all code. The cards belong to Ana Souza."
    )
    on = _anonymizer(person_filter=True).anonymize(text)
    off = _anonymizer(person_filter=False).anonymize(text)
    assert "Screens must" in on.text and "Git is" in on.text
    assert "Ana" not in on.text and "Souza" not in on.text  # one-word span grown to the name
    assert on.counts["PERSON"] < off.counts["PERSON"]
    assert "Ana" not in off.text  # the name is completed with the filter off too


def test_disabled_anonymizer_changes_nothing():
    settings = AnonymizeSettings(enabled=False)
    assert Anonymizer(settings, secret=b"k").anonymize(TEXT).text == TEXT


# -- windows ---------------------------------------------------------------------------------

FILLER = "the quick brown fox jumps over the lazy dog and keeps on running. "


def test_an_entity_on_the_window_boundary_is_found(anonymizer):
    from rag.privacy.anonymizer import WINDOW_CHARS

    address = "1234 Maple Street, Apt 5B"
    head = (FILLER * (WINDOW_CHARS // len(FILLER) + 1))[: WINDOW_CHARS - 12]
    head = head[: head.rfind(" ") + 1]
    text = head + "She lives at " + address + ". " + FILLER * 20
    start = text.index(address)
    assert start < WINDOW_CHARS < start + len(address)  # the first window cuts through it
    result = anonymizer.anonymize(text)
    assert "Maple" not in result.text and "5B" not in result.text
    assert result.counts == {"STREET_ADDRESS": 1}


def test_small_windows_find_every_entity_once():
    anonymizer = Anonymizer(Settings().anonymize, secret=b"k", window_chars=120, window_overlap=40)
    emails = [f"person{i}.name@example.org" for i in range(12)]
    text = " ".join(f"{FILLER[: 20 + i * 3]} write to {e} today." for i, e in enumerate(emails))
    result = anonymizer.anonymize(text)
    assert not any(e in result.text for e in emails)
    assert result.counts["EMAIL_ADDRESS"] == len(emails)


# -- one policy for every shipped config ---------------------------------------------------------

EVERY_TYPE = (
    "Jane Doe (employee EMP-118734) lives at 42 Elm Street, Springfield, IL 62704.\n"
    "Mail jane.doe@hr.acme.internal or call +41 (0)96 471 07 95; card 4111 1111 1111 1111,\n"
    "IBAN DE89 3704 0044 0532 0130 00, SSN 536-22-8741, laptop 10.20.30.40.\n"
    "Phone: 467 3395"
)


def _policy_for(config, monkeypatch) -> AnonymizeSettings:
    monkeypatch.setenv("RAG_CONFIG", str(config))
    monkeypatch.delenv("RAG_EMBEDDING__BACKEND", raising=False)  # as shipped (conftest pins onnx)
    return Settings().anonymize


@pytest.mark.parametrize(
    "config", sorted((REPO_ROOT / "configs").glob("*.yaml")), ids=lambda p: p.name
)
def test_each_shipped_config_finds_what_the_default_finds(config, monkeypatch):
    default = _policy_for(REPO_ROOT / "configs" / "default.yaml", monkeypatch)
    shipped = _policy_for(config, monkeypatch)
    expected = Anonymizer(default, secret=b"k").find(EVERY_TYPE)
    assert {s.entity_type for s in expected} >= {
        "PERSON",
        "EMPLOYEE_ID",
        "STREET_ADDRESS",
        "EMAIL_ADDRESS",
        "PHONE_NUMBER",
        "CREDIT_CARD",
        "IBAN_CODE",
        "US_SSN",
        "IP_ADDRESS",
    }
    assert Anonymizer(shipped, secret=b"k").find(EVERY_TYPE) == expected


def test_the_settings_model_holds_the_policy_that_default_yaml_documents(monkeypatch):
    """Configs that leave anonymize out get the same policy as default.yaml."""
    documented = _policy_for(REPO_ROOT / "configs" / "default.yaml", monkeypatch)
    assert AnonymizeSettings() == documented


# Random upload folder names spaCy's small model took for people (6 of 300 in one run).
HEX_NAMES = ["fec282e1d82e", "a89639cb650e", "da0697bbf9ae", "c5628561ef32", "d6836a9d5614"]


@pytest.mark.parametrize("value", HEX_NAMES)
def test_a_token_of_hex_digits_is_not_a_person(anonymizer, value):
    # A folder name is anonymized alone (rag/privacy/path_names.py), as here.
    assert [s.entity_type for s in anonymizer.find(value)] == []


def test_a_name_beside_a_number_is_still_a_person(anonymizer):
    found = anonymizer.find("The review of Priya Raman 2 is due.")
    assert any(s.entity_type == "PERSON" for s in found)
    assert "Priya Raman" not in anonymizer.anonymize("The review of Priya Raman 2 is due.").text

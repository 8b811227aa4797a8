"""E-mail addresses are personal data by their syntax, whatever their top-level domain."""

from __future__ import annotations

import socket

import pytest

from rag.config import Settings
from rag.privacy.anonymizer import Anonymizer
from rag.privacy.recognizers.offline_email import OfflineEmailRecognizer


@pytest.fixture(scope="module")
def anonymizer() -> Anonymizer:
    return Anonymizer(Settings().anonymize, secret=b"email-test")


@pytest.mark.parametrize(
    "address",
    [
        "jane.doe@mail.acme.internal",  # intranet
        "j.doe@hr.corp",
        "priya@printer.local",
        "ops-team@router.lan",
        "jane@acme",  # a bare company host
        "root@localhost",
        "jane.doe@example",  # reserved (RFC 2606)
        "first.last@site.example",
        "qa+bugs@build.test",
        "_noreply@ci.corp",
        "o'neil@acme-group.intranet",
        "jane@example.com",  # public suffixes still found
        "zoë.müller@firma.de",
    ],
)
def test_an_address_on_any_domain_is_found(anonymizer, address):
    text = f"Please write to {address} before Friday."
    result = anonymizer.anonymize(text)
    assert address not in result.text
    assert result.counts["EMAIL_ADDRESS"] == 1


@pytest.mark.parametrize(
    "text",
    [
        "pin requests@2.31.0 and node@18 in the lock file",
        "ask @jane in the channel",
        "meet at 5 @ the office",
        "the @property decorator",
        "ask in `@slackadmin` or mail any `@gsa.gov` address",
    ],
)
def test_what_only_looks_like_an_address_is_not(text):
    assert OfflineEmailRecognizer().analyze(text, ["EMAIL_ADDRESS"]) == []


def test_the_address_is_the_whole_value():
    text = "Mail jane.doe@mail.acme.internal."
    (found,) = OfflineEmailRecognizer().analyze(text, ["EMAIL_ADDRESS"])
    assert text[found.start : found.end] == "jane.doe@mail.acme.internal"


def test_no_network_call(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the e-mail recognizer tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    found = OfflineEmailRecognizer().analyze("to a@b.internal and c@d.com", ["EMAIL_ADDRESS"])
    assert len(found) == 2

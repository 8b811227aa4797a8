"""The whole ingest-and-ask path, models loaded from scratch, opens no outside connection."""

from __future__ import annotations

import ipaddress
import socket
import sys

from rag.config import Settings
from rag.db.migrate import upgrade
from rag.service import RagService
from tests.conftest import EXAMPLES

_connections: list[tuple] = []
_recording = False


def _audit(event: str, args: tuple) -> None:
    if _recording and event in ("socket.connect", "socket.getaddrinfo", "socket.sendto"):
        _connections.append((event, args))


# An audit hook cannot be removed: it records only while `_recording` is set.
sys.addaudithook(_audit)


def _is_local(event: str, args: tuple) -> bool:
    if event == "socket.getaddrinfo":
        host = args[0]
        return host in (None, "localhost") or _is_loopback(host)
    sock, address = args[0], args[1]
    if sock.family == socket.AF_UNIX:
        return True
    return _is_loopback(address[0])


def _is_loopback(host) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def test_ingest_and_ask_open_no_outside_connection(tmp_path):
    global _recording
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'rag.db'}")
    upgrade(settings.resolved_database_url)
    _connections.clear()
    _recording = True
    try:
        # A fresh service: the models load here, which is when a hub client would call out.
        service = RagService(settings)
        service.load_all()
        report = service.pipeline.ingest_folder(EXAMPLES)
        answer = service.ask("How many days of annual leave do employees get?")
        # Presidio's e-mail recognizer is the known caller: make sure it ran.
        service.anonymizer.anonymize("write to someone@example.org")
    finally:
        _recording = False
    assert report.indexed == 5
    assert answer.citations
    outside = [(event, args[1:]) for event, args in _connections if not _is_local(event, args)]
    assert outside == []


def test_the_recorder_sees_a_connection_attempt():
    """Guard against a silently broken hook: an attempt to a closed local port is recorded."""
    global _recording
    _connections.clear()
    _recording = True
    try:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            sock.connect_ex(("127.0.0.1", 9))
    finally:
        _recording = False
    assert any(event == "socket.connect" for event, _ in _connections)

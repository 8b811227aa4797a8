"""The whole ingest-and-ask path, models loaded from scratch, opens no outside connection.
(The default embedding runtime on a CPU with VNNI, openvino, is checked the same way in its own
test process: tests/rag/embed/test_openvino_auto.py.)"""

from __future__ import annotations

import socket

from rag.config import Settings
from rag.db.migrate import upgrade
from rag.service import RagService
from tests.conftest import EXAMPLES
from tests.outbound import outside, recorded_connections


def test_ingest_and_ask_open_no_outside_connection(tmp_path):
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'rag.db'}")
    upgrade(settings.resolved_database_url)
    with recorded_connections() as connections:
        # A fresh service: the models load here, which is when a hub client would call out.
        service = RagService(settings)
        service.load_all()
        report = service.pipeline.ingest_folder(EXAMPLES)
        answer = service.ask("How many days of annual leave do employees get?")
        # Presidio's e-mail recognizer is the known caller: make sure it ran.
        service.anonymizer.anonymize("write to someone@example.org")
    assert report.indexed == 5
    assert answer.citations
    assert outside(connections) == []


def test_the_recorder_sees_a_connection_attempt():
    """Guard against a silently broken hook: an attempt to a closed local port is recorded."""
    with recorded_connections() as connections, socket.socket() as sock:
        sock.settimeout(0.5)
        sock.connect_ex(("127.0.0.1", 9))
    assert any(event == "socket.connect" for event, _ in connections)

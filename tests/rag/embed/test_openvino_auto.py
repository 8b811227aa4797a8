"""embedding.backend auto with the real OpenVINO (in the openvino test process: conftest.py):
on a machine that takes openvino a new store is filled by it, and it keeps openvino when opened
on a machine that would take onnx, so a data folder that moves is not re-embedded; a process
that chose openvino for an empty store another host then filled with onnx follows the store.
SQLite only: this process's every test must run (test_openvino_process.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ingest.reembed import stored_fingerprint
from rag.config import Settings
from rag.db.migrate import upgrade
from rag.db.models import Job
from rag.db.session import transaction
from rag.embed import backend_choice
from rag.embed.backend_choice import stored_runtime


@pytest.fixture
def auto_settings(tmp_path) -> Settings:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    return Settings(data_dir=tmp_path / "data", database_url=url, embedding={"backend": "auto"})


def _docs(folder, text="Staff get 27 days of annual leave. The gym costs 40 euros."):
    folder.mkdir()
    (folder / "leave.txt").write_text(text)
    return folder


def _on(monkeypatch, runtime: str) -> None:
    """This machine's choice for a store without vectors."""
    monkeypatch.setattr(backend_choice, "host_runtime", lambda flags=None: runtime)


def _stored(service) -> str | None:
    with transaction(service.session_factory) as session:
        return stored_runtime(stored_fingerprint(session))


def _reembeds_queued(service) -> int:
    with transaction(service.session_factory) as session:
        return len(session.scalars(select(Job).where(Job.kind == "reembed")).all())


def test_auto_fills_a_new_store_with_openvino_and_keeps_it_on_another_cpu(
    auto_settings, anonymizer, tmp_path, monkeypatch
):
    from rag.service import RagService

    _on(monkeypatch, "openvino")
    service = RagService(auto_settings, anonymizer=anonymizer)
    try:
        assert service.embedder.settings.backend == "openvino"
        assert service.pipeline.ingest_folder(_docs(tmp_path / "docs")).indexed == 1
        assert _stored(service) == "openvino"
    finally:
        service.engine.dispose()

    _on(monkeypatch, "onnx")
    moved = RagService(auto_settings, anonymizer=anonymizer)
    try:
        assert moved.embedder.settings.backend == "openvino"
        hits = moved.search_for("How many days of annual leave?", None, None)
        assert "27 days" in hits[0].text
        assert moved.vectors_current() and _reembeds_queued(moved) == 0
    finally:
        moved.engine.dispose()


@pytest.fixture
def two_hosts(auto_settings, anonymizer, monkeypatch):
    """Two hosts of different CPUs on one store, both started while it was empty: the first
    chose openvino (its embedder loaded), the second takes onnx."""
    from rag.service import RagService

    _on(monkeypatch, "openvino")
    chose_openvino = RagService(auto_settings, anonymizer=anonymizer)
    assert chose_openvino.embedder.settings.backend == "openvino"
    _on(monkeypatch, "onnx")
    on_onnx = RagService(auto_settings, anonymizer=anonymizer)
    yield chose_openvino, on_onnx
    chose_openvino.engine.dispose()
    on_onnx.engine.dispose()


def test_an_api_that_chose_openvino_for_an_empty_store_searches_as_the_onnx_that_filled_it(
    two_hosts, tmp_path
):
    api, worker = two_hosts
    assert worker.pipeline.ingest_folder(_docs(tmp_path / "docs")).indexed == 1
    # The first search already embeds the question with onnx, with the dense leg on.
    retriever = api.retriever
    assert retriever.dense_enabled and retriever.embedder.settings.backend == "onnx"
    hits = api.search_for("How many days of annual leave?", None, None)
    assert "27 days" in hits[0].text
    assert api.vectors_current() and _reembeds_queued(api) == 0


def test_a_worker_that_chose_openvino_for_an_empty_store_writes_as_the_onnx_that_filled_it(
    two_hosts, tmp_path
):
    late, first = two_hosts
    assert first.pipeline.ingest_folder(_docs(tmp_path / "first")).indexed == 1
    gym = "The gym subsidy is 40 euros per month."
    assert late.pipeline.ingest_folder(_docs(tmp_path / "late", gym)).indexed == 1
    assert late.embedder.settings.backend == "onnx"
    assert _stored(late) == "onnx" and _reembeds_queued(late) == 0


def test_the_default_on_an_openvino_machine_opens_no_outside_connection(
    auto_settings, anonymizer, monkeypatch
):
    from rag.service import RagService
    from tests.conftest import EXAMPLES
    from tests.outbound import outside, recorded_connections

    _on(monkeypatch, "openvino")
    with recorded_connections() as connections:
        service = RagService(auto_settings, anonymizer=anonymizer)
        try:
            assert service.embedder.settings.backend == "openvino"
            assert service.pipeline.ingest_folder(EXAMPLES).indexed == 5
            hits = service.search_for("How many days of annual leave?", None, None)
        finally:
            service.engine.dispose()
    assert hits and outside(connections) == []

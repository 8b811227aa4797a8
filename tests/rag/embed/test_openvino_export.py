"""The OpenVINO int8 model: quantized once per model and calibration text, offline, then reused
from the shared cache."""

from __future__ import annotations

import shutil
import socket

import numpy as np
import pytest

from rag.config import Settings
from rag.embed import openvino_export
from rag.embed.onnx_export import export_key, exported_model
from rag.embed.openvino_backend import OpenVinoEmbedder
from rag.embed.openvino_export import is_quantized, quantization_key
from rag.model_paths import resolve_model_path

pytestmark = pytest.mark.slow


@pytest.fixture
def cache_with_the_onnx_exports(tmp_path):
    """A cache folder holding the ONNX exports (made with torch, elsewhere tested) only."""
    model_dir = resolve_model_path(Settings().embedding.model, "embedding")
    for quantization in ("int8", "none"):
        made = exported_model(model_dir, quantization)  # the shared cache's, made if missing
        shutil.copytree(made.parent, tmp_path / export_key(model_dir, quantization))
    return model_dir, tmp_path


def test_the_int8_model_is_made_offline_once_and_then_reused(
    cache_with_the_onnx_exports, monkeypatch
):
    model_dir, cache = cache_with_the_onnx_exports
    settings = Settings().embedding.model_copy(update={"backend": "openvino", "cache_dir": cache})

    def no_network(*_args, **_kwargs):
        raise AssertionError("a network connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket.socket, "connect_ex", no_network)
    assert not is_quantized(model_dir, cache)
    first = OpenVinoEmbedder(settings)
    assert is_quantized(model_dir, cache)
    assert not any(p.name.startswith(".export-") for p in cache.iterdir())  # cleaned up

    import nncf

    def no_quantizing(*_args, **_kwargs):
        raise AssertionError("quantized again")

    monkeypatch.setattr(nncf, "quantize", no_quantizing)
    again = OpenVinoEmbedder(settings)
    texts = ["Employees get 28 days of paid annual leave.", "Net sales; 2022: $82,959"]
    assert np.allclose(first.embed(texts), again.embed(texts), atol=1e-6)


def test_another_calibration_text_is_another_model(tmp_path, monkeypatch):
    before = quantization_key()
    other = tmp_path / "calibration.txt"
    other.write_text("Another text to calibrate on.\n")
    monkeypatch.setattr(openvino_export, "CALIBRATION", other)
    assert quantization_key() != before
    assert quantization_key().startswith("openvino-int8-")


def test_without_openvino_installed_the_backend_says_what_to_install(monkeypatch):
    import sys

    from rag.devices import DeviceUnavailableError

    monkeypatch.setitem(sys.modules, "openvino", None)  # import openvino raises ImportError
    settings = Settings().embedding.model_copy(update={"backend": "openvino"})
    with pytest.raises(DeviceUnavailableError, match=r"rag-private-docs\[openvino\]"):
        OpenVinoEmbedder(settings)


def test_only_the_quotes_token_vectors_open_an_onnx_runtime_session(monkeypatch):
    """OpenVINO makes the sentence vectors; ONNX Runtime's session of the export is opened
    only when the quotes ask for token vectors (it cost start-up time and memory for nothing)."""
    import onnxruntime

    opened = []
    real = onnxruntime.InferenceSession

    def counting(*args, **kwargs):
        opened.append(args[0] if isinstance(args[0], str) else "bytes")
        return real(*args, **kwargs)

    monkeypatch.setattr(onnxruntime, "InferenceSession", counting)
    settings = Settings().embedding.model_copy(update={"backend": "openvino"})
    embedder = OpenVinoEmbedder(settings)
    assert embedder.embed(["Net sales; 2022: $82,959"]).shape == (1, embedder.dimension)
    assert opened == []
    embedder.embed_tokens(["Employees get 28 days of paid annual leave."])
    assert len(opened) == 1

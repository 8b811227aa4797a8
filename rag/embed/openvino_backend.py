"""The openvino backend: the onnx backend's model run by OpenVINO on the CPU, int8 by NNCF.

Where it pays: a CPU with VNNI (AVX-512 VNNI, AVX-VNNI or AMX), where its int8 embeds ~1.5x
the onnx backend's chunks per CPU second at the same closeness to float32; without VNNI it is
slower than the onnx backend (bench/RESULTS.md, issue 19). Tokenizing, batching, pooling and
normalizing are the onnx backend's; so are the token vectors of `embed_tokens` (the quotes'
late interaction: an ONNX Runtime session of the onnx export, made on first use). Only the
sentence vectors come from OpenVINO.
"""

from __future__ import annotations

import json
import logging

import numpy as np

from rag.config import EmbeddingSettings
from rag.devices import DeviceUnavailableError
from rag.embed.onnx_backend import OnnxEmbedder, _window
from rag.embed.openvino_export import openvino_model
from rag.host_resources import usable_cores

log = logging.getLogger(__name__)

CALIBRATION_BATCH = 8


class OpenVinoEmbedder(OnnxEmbedder):
    def __init__(self, settings: EmbeddingSettings) -> None:
        try:
            import openvino
        except ImportError as exc:
            raise DeviceUnavailableError(
                "embedding.backend openvino needs OpenVINO, which is not installed: "
                "pip install 'rag-private-docs[openvino]', or set embedding.backend onnx"
            ) from exc
        self._openvino = openvino
        super().__init__(settings)
        log.info("embedding model %s runs with OpenVINO", self.model_name)

    def _sentence_session(self) -> _OpenVinoSession:
        """OpenVINO's compiled int8 model; no ONNX Runtime session for the sentence vectors."""
        settings = self.settings
        model_file = openvino_model(
            self.path, settings.onnx_quantization, settings.cache_dir, self._calibration_inputs
        )
        # Threads as the onnx backend sizes them: a container's CPU quota is not OpenVINO's count.
        threads = settings.onnx_threads or usable_cores()
        config: dict = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": threads}
        return _OpenVinoSession(self._openvino.Core(), model_file, config)

    def _input_names(self) -> set[str]:
        return self.session.input_names()

    def _calibration_inputs(self, texts: list[str], names: list[str]) -> list[dict]:
        """The model's inputs `names` for `texts`, as `_encode` makes them, in small batches
        and cut at the model's own window whatever the settings say: one int8 model per cache
        key."""
        config = json.loads((self.path / "config.json").read_text())
        own = self.settings.model_copy(update={"max_seq_length": None})
        window = _window(self.path, own, config)
        batches = self._batches(texts, CALIBRATION_BATCH, window, set(names))
        return [feed for _, feed, _, _ in batches]


class _OpenVinoSession:
    """A compiled OpenVINO model called as `OnnxEmbedder._encode` calls its ONNX Runtime
    session (`run(None, inputs)[0]`: the sentence vectors).

    Holds the core and the compiled model for as long as their request lives, so that
    nothing is torn down under it, whatever order the garbage collector takes them in."""

    def __init__(self, core, model_file, config: dict) -> None:
        self._core = core
        self._compiled = core.compile_model(str(model_file), "CPU", config)
        self._request = self._compiled.create_infer_request()

    def run(self, _outputs, feed: dict) -> list[np.ndarray]:
        result = self._request.infer(feed)
        return [np.asarray(result[0])]

    def input_names(self) -> set[str]:
        return {name for port in self._compiled.inputs for name in port.get_names()}

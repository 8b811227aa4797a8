"""The onnx backend: the same model through ONNX Runtime on the CPU, int8 by default.

Its vectors are those of the torch backend up to rounding (float32) or quantization (int8:
cosine ~0.99 to torch's; dense retrieval quality measured in bench/RESULTS.md, issue 19). Texts
are tokenized as sentence-transformers does (stripped, cut to the window), sorted by length so
each batch is padded little, and pooled inside the graph (onnx_export.py). Token vectors
(`embed_tokens`, for the quotes' late interaction: rag/quotes.py) come from a second session of
the same file with the last layer's output exposed, made on first use.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.config import EmbeddingSettings
from rag.embed.fast_tokenizer import FastTokenizer
from rag.embed.inputs import PrefixedEmbedding
from rag.embed.onnx_export import exported_model
from rag.host_resources import usable_cores
from rag.model_paths import resolve_model_path

log = logging.getLogger(__name__)


class OnnxEmbedder(PrefixedEmbedding):
    """Turns texts into float32 vectors, L2-normalized unless the settings say otherwise."""

    device = "cpu"

    def __init__(self, settings: EmbeddingSettings) -> None:
        import onnxruntime

        path = resolve_model_path(settings.model, "embedding")
        self.settings = settings
        self.path = path
        self.batch_size = settings.batch_size
        model_file = exported_model(path, settings.onnx_quantization, settings.cache_dir)
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Always a number: ONNX Runtime's own default pins a thread to each core of the machine,
        # outside the CPUs `taskset`, a cpuset or a container's quota leave this process.
        options.intra_op_num_threads = settings.onnx_threads or usable_cores()
        # Idle threads sleep instead of spinning: during an ingest the file workers need the
        # cores between two embedding calls (bench/RESULTS.md, issue 19).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._model_file, self._options = model_file, options
        self._token_session: onnxruntime.InferenceSession | None = None
        self._hidden_state = ""
        config = json.loads((path / "config.json").read_text())
        self._max_tokens = _window(path, settings, config)
        # Not transformers' AutoTokenizer: importing transformers imports torch (fast_tokenizer.py).
        self._tokenizer = FastTokenizer(path, self._max_tokens)
        # Encoding and chunking may run in different threads; a tokenizer must not be used by
        # two at once ("Already borrowed"), so the chunker gets its own.
        self._chunking_tokenizer = FastTokenizer(path, self._max_tokens)
        self._encode_lock = threading.Lock()
        self.session = self._sentence_session()  # after the tokenizers: OpenVINO calibrates
        self._inputs = self._input_names()
        self.dimension = int(config["hidden_size"])
        self.model_name = path.name if path.name != "model" else path.parent.name
        log.info(
            "embedding model %s with ONNX Runtime (%s) on cpu (dim %d)",
            self.model_name,
            settings.onnx_quantization,
            self.dimension,
        )

    @property
    def tokenizer(self):
        """The model's tokenizer, for counting and cutting text (not shared with encoding)."""
        return self._chunking_tokenizer

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    def _encode(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return vectors
        prepared = [(prefix + text).strip() for text in texts]
        with self._encode_lock:
            for rows, feed, _, _ in self._batches(prepared):
                vectors[rows] = self.session.run(None, feed)[0]
        if self.settings.normalize:
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            vectors /= np.maximum(norms, 1e-12)
        return vectors

    def _encode_tokens(self, texts: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        found: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        with self._encode_lock:
            session = self._tokens_session()
            for rows, feed, spans, mask in self._batches(texts):
                states = session.run([self._hidden_state], feed)[0]
                for row, index in enumerate(rows):
                    kept = mask[row].astype(bool)
                    found[index] = (spans[row][kept].astype(np.int64), states[row][kept])
        return [found[index] for index in range(len(texts))]

    def _batches(
        self,
        prepared: list[str],
        batch_size: int | None = None,
        window: int | None = None,
        inputs: set[str] | None = None,
    ):
        """Per batch of texts: their rows, the model's `inputs` (by default the session's),
        each token's character span and the attention mask (batches of `batch_size`, texts cut
        at `window` tokens: by default the settings')."""
        batch_size = batch_size or self.batch_size
        inputs = inputs or self._inputs
        # Longest first, as sentence-transformers does: batches of similar lengths pad little.
        order = sorted(range(len(prepared)), key=lambda i: -len(prepared[i]))
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            encoded = self._tokenizer(
                [prepared[i] for i in rows],
                padding=True,
                truncation=True,
                max_length=window or self._max_tokens,
                return_offsets_mapping=True,
                return_tensors="np",
            )
            feed = {
                name: encoded[name].astype(np.int64)
                for name in ("input_ids", "attention_mask", "token_type_ids")
                if name in inputs
            }
            if "token_type_ids" in inputs and "token_type_ids" not in feed:
                feed["token_type_ids"] = np.zeros_like(feed["input_ids"])
            yield rows, feed, encoded["offset_mapping"], encoded["attention_mask"]

    def _sentence_session(self):
        """What `_encode` runs for the sentence vectors (`run(None, inputs)[0]`); the openvino
        backend runs its own."""
        import onnxruntime

        return onnxruntime.InferenceSession(
            str(self._model_file), self._options, providers=["CPUExecutionProvider"]
        )

    def _input_names(self) -> set[str]:
        return {i.name for i in self.session.get_inputs()}

    def _tokens_session(self):
        """The same model with its last layer's output (before pooling) as a second output; a
        session of its own, so the sentence vectors' graph stays as it was optimized."""
        if self._token_session is None:
            import onnx
            import onnxruntime

            model = onnx.load(str(self._model_file))
            self._hidden_state = last_hidden_state(model)
            model.graph.output.append(
                onnx.helper.make_tensor_value_info(self._hidden_state, onnx.TensorProto.FLOAT, None)
            )
            self._token_session = onnxruntime.InferenceSession(
                model.SerializeToString(), self._options, providers=["CPUExecutionProvider"]
            )
        return self._token_session


def last_hidden_state(model) -> str:
    """The name of the tensor the pooling reads: the output of the graph's last layer norm
    (every encoder sentence-transformers pools ends its last layer with one). The contract
    test checks it against torch's token vectors."""
    norms = [node for node in model.graph.node if node.op_type.endswith("LayerNormalization")]
    if not norms:
        raise ValueError("the ONNX model has no layer norm: its token vectors cannot be found")
    return norms[-1].output[0]


def _window(path: Path, settings: EmbeddingSettings, config: dict) -> int:
    """The configured window, else the model's own (sentence-transformers' file), never more
    than its position embeddings."""
    limit = int(config.get("max_position_embeddings", 512))
    if settings.max_seq_length is not None:
        return min(settings.max_seq_length, limit)
    own = path / "sentence_bert_config.json"
    if own.is_file() and json.loads(own.read_text()).get("max_seq_length"):
        return min(int(json.loads(own.read_text())["max_seq_length"]), limit)
    return limit

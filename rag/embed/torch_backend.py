"""The torch backend: a sentence-transformers model from a local path, on CUDA when present."""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Sequence

import numpy as np

from rag.config import EmbeddingSettings
from rag.devices import pick_torch_device
from rag.embed.inputs import PrefixedEmbedding
from rag.model_paths import resolve_model_path

log = logging.getLogger(__name__)


class TorchEmbedder(PrefixedEmbedding):
    """Turns texts into float32 vectors, L2-normalized unless the settings say otherwise."""

    def __init__(self, settings: EmbeddingSettings) -> None:
        from sentence_transformers import SentenceTransformer

        path = resolve_model_path(settings.model, "embedding")
        self.settings = settings
        self.path = path
        self.device = pick_torch_device(settings.device, "embedding.device")
        self.batch_size = settings.batch_size
        self.model = SentenceTransformer(str(path), device=self.device, local_files_only=True)
        if settings.max_seq_length is not None:
            self.model.max_seq_length = settings.max_seq_length
        self.dimension = int(self.model.get_embedding_dimension())
        self.model_name = path.name if path.name != "model" else path.parent.name
        log.info("embedding model %s on %s (dim %d)", self.model_name, self.device, self.dimension)
        # The API's questions and the in-process worker's passages are embedded from different
        # threads, and a fast tokenizer must not be used by two at once ("Already borrowed"):
        # encoding is serialized, and the chunker gets a tokenizer of its own.
        self._encode_lock = threading.Lock()
        self._chunking_tokenizer = copy.deepcopy(self.model.tokenizer)

    @property
    def tokenizer(self):
        """The model's tokenizer, for counting and cutting text (not shared with encoding)."""
        return self._chunking_tokenizer

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    def _encode(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._encode_lock:
            vectors = self.model.encode(
                list(texts),
                # An explicit prompt, even "", also stops a model's own default prompt from being
                # added: the settings alone say what the vectors were made from.
                prompt=prefix,
                batch_size=self.batch_size,
                normalize_embeddings=self.settings.normalize,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def _encode_tokens(self, texts: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        import torch

        transformer = self.model[0]  # the Transformer module: token vectors before pooling
        found = []
        with self._encode_lock, torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                batch = texts[start : start + self.batch_size]
                encoded = self.model.tokenizer(
                    batch,
                    padding=True,
                    truncation=True,
                    max_length=self.max_tokens,
                    return_offsets_mapping=True,
                    return_tensors="pt",
                )
                spans = encoded.pop("offset_mapping").numpy()
                features = {name: value.to(self.device) for name, value in encoded.items()}
                states = transformer(features)["token_embeddings"].float().cpu().numpy()
                mask = encoded["attention_mask"].numpy().astype(bool)
                found.extend(
                    (spans[row][mask[row]].astype(np.int64), states[row][mask[row]])
                    for row in range(len(batch))
                )
        return found

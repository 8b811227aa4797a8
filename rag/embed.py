"""Embedder: a sentence-transformers model from a local path, on CUDA when present."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from rag.config import EmbeddingSettings
from rag.model_paths import resolve_model_path

log = logging.getLogger(__name__)


def pick_device(preference: str) -> str:
    if preference != "auto":
        return preference
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class Embedder:
    """Turns texts into L2-normalized float32 vectors (inner product = cosine)."""

    def __init__(self, settings: EmbeddingSettings) -> None:
        from sentence_transformers import SentenceTransformer

        path = resolve_model_path(settings.model, "embedding")
        self.device = pick_device(settings.device)
        self.batch_size = settings.batch_size
        self.model = SentenceTransformer(str(path), device=self.device, local_files_only=True)
        self.model.max_seq_length = settings.max_seq_length
        self.dimension = int(self.model.get_embedding_dimension())
        self.model_name = path.name if path.name != "model" else path.parent.name
        log.info("embedding model %s on %s (dim %d)", self.model_name, self.device, self.dimension)

    @property
    def tokenizer(self):
        return self.model.tokenizer

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

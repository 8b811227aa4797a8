"""Embedders: texts -> float32 vectors, one backend per module behind the `Embedder` Protocol.

Any sentence-transformers model works; the `embedding:` settings say how it wants its input:
its window (`max_seq_length`), the prefixes it was trained with for questions and passages
(e5: "query: " / "passage: "; bge v1.5: a query instruction and no passage prefix; MiniLM:
none) and whether its vectors are L2-normalized (then inner product = cosine, which the FAISS
index and `retrieval.min_score` assume). Questions go through `embed_query`, passages through
`embed`: mixing them up silently costs retrieval quality with e5 or bge.

`embed_tokens` / `embed_query_tokens` give each token's vector before pooling, with its
characters in the text (rag/embed/inputs.py, TokenVectors): the quotes compare a question's
tokens with a sentence's one by one (rag/quotes.py).

Backends (`embedding.backend`): `torch` (torch_backend.py: sentence-transformers, CPU or CUDA),
`onnx` (onnx_backend.py: ONNX Runtime on the CPU, int8 by default, from an export made once on
first use and cached outside the data folder: onnx_export.py) and `openvino`
(openvino_backend.py: OpenVINO's int8 model quantized from that export: openvino_export.py);
`auto` picks one of them (backend_choice.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from rag.config import EmbeddingSettings
from rag.embed.inputs import TokenVectors


class Embedder(Protocol):
    settings: EmbeddingSettings
    path: Path  # the model's folder (its files are part of the embedding fingerprint)
    model_name: str
    dimension: int
    device: str

    @property
    def tokenizer(self) -> Any:
        """The model's tokenizer, called as a Hugging Face fast tokenizer is (the onnx
        backend's is rag/embed/fast_tokenizer.py), for the chunker to count and cut text;
        not the one encoding uses, so chunking and embedding may run in different threads."""

    @property
    def max_tokens(self) -> int:
        """The window: longer texts are cut to this many tokens."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Passages (chunks), with the passage prefix: one row per text."""

    def embed_query(self, texts: Sequence[str]) -> np.ndarray:
        """Questions, with the query prefix: one row per text."""

    def embed_tokens(self, texts: Sequence[str]) -> list[TokenVectors]:
        """Passages' token vectors before pooling, each with its place in the text."""

    def embed_query_tokens(self, texts: Sequence[str]) -> list[TokenVectors]:
        """Questions' token vectors before pooling, each with its place in the text."""


def load_embedder(settings: EmbeddingSettings) -> Embedder:
    """The configured backend with the configured model (loaded now); `auto` as this machine
    chooses it (a store's own choice: RagService.embedder)."""
    from rag.embed.backend_choice import resolve_backend

    settings = resolve_backend(settings)
    if settings.backend == "onnx":
        from rag.embed.onnx_backend import OnnxEmbedder

        return OnnxEmbedder(settings)
    if settings.backend == "openvino":
        from rag.embed.openvino_backend import OpenVinoEmbedder

        return OpenVinoEmbedder(settings)
    from rag.embed.torch_backend import TorchEmbedder

    return TorchEmbedder(settings)

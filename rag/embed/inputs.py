"""What every embedding backend checks of its input, and the prefixes it puts before it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from rag.embed.pseudonym_words import StandInOffsets, readable

if TYPE_CHECKING:
    from rag.config import EmbeddingSettings


def check_texts(texts: Sequence[str]) -> None:
    if isinstance(texts, str):
        # A str is a sequence of characters: embedding each one is never what was meant.
        raise TypeError("embed a list of texts, not a single str (wrap it: [text])")


@dataclass(frozen=True)
class TokenVectors:
    """A text's tokens as the model's last layer gives them, before pooling: `vectors[i]` is
    token i in the context of the whole text, `spans[i]` its (start, end) characters in the
    text. Special tokens and the prefix's tokens are left out; past the window there are none."""

    spans: np.ndarray  # (tokens, 2) int
    vectors: np.ndarray  # (tokens, dimension) float32, not normalized


class PrefixedEmbedding:
    """`embed` and `embed_query` of every backend: each pseudonym as its stand-in words
    (rag/embed/pseudonym_words.py), the settings' prefix for passages or questions, then the
    backend's own `_encode`; likewise `embed_tokens` and `embed_query_tokens` with its
    `_encode_tokens`."""

    settings: EmbeddingSettings

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Passages (chunks), with the passage prefix: one row per text."""
        return self._encode(self._readable(texts), self.settings.passage_prefix)

    def embed_query(self, texts: Sequence[str]) -> np.ndarray:
        """Questions, with the query prefix: one row per text."""
        return self._encode(self._readable(texts), self.settings.query_prefix)

    def embed_tokens(self, texts: Sequence[str]) -> list[TokenVectors]:
        """Passages' token vectors (the passage prefix read first, as `embed` does)."""
        return self._tokens(texts, self.settings.passage_prefix)

    def embed_query_tokens(self, texts: Sequence[str]) -> list[TokenVectors]:
        """Questions' token vectors (the query prefix read first, as `embed_query` does)."""
        return self._tokens(texts, self.settings.query_prefix)

    def _readable(self, texts: Sequence[str]) -> Sequence[str]:
        check_texts(texts)
        if not self.settings.pseudonym_stand_ins:
            return texts
        return [readable(text) for text in texts]

    def _tokens(self, texts: Sequence[str], prefix: str) -> list[TokenVectors]:
        check_texts(texts)
        stand_ins = self.settings.pseudonym_stand_ins
        read = [StandInOffsets(text) if stand_ins else None for text in texts]
        shown = [r.text if r else text for r, text in zip(read, texts, strict=True)]
        prepared = [prefix + text for text in shown]
        # Backends strip what they read (as sentence-transformers does): spans move by the
        # stripped whitespace, then back past the prefix.
        shifts = [len(p) - len(p.lstrip()) - len(prefix) for p in prepared]
        found = []
        encoded = self._encode_tokens([p.strip() for p in prepared]) if texts else []
        for (spans, vectors), shift, offsets in zip(encoded, shifts, read, strict=True):
            spans = spans + shift
            kept = (spans[:, 1] > spans[:, 0]) & (spans[:, 0] >= 0)  # no special or prefix token
            spans, vectors = spans[kept], vectors[kept]
            if offsets is not None:
                spans = np.array(
                    [[offsets.original(s), offsets.original(e, end=True)] for s, e in spans],
                    dtype=np.int64,
                ).reshape(-1, 2)
            found.append(TokenVectors(spans, np.ascontiguousarray(vectors, dtype=np.float32)))
        return found

    def _encode(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        raise NotImplementedError

    def _encode_tokens(self, texts: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per text (already prefixed and stripped): every token's (start, end) in it, special
        tokens as (0, 0), and its last-layer vector."""
        raise NotImplementedError

"""What every embedding backend checks of its input, and the prefixes it puts before it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from rag.embed.pseudonym_words import readable

if TYPE_CHECKING:
    from rag.config import EmbeddingSettings


def check_texts(texts: Sequence[str]) -> None:
    if isinstance(texts, str):
        # A str is a sequence of characters: embedding each one is never what was meant.
        raise TypeError("embed a list of texts, not a single str (wrap it: [text])")


class PrefixedEmbedding:
    """`embed` and `embed_query` of every backend: each pseudonym as its stand-in words
    (rag/embed/pseudonym_words.py), the settings' prefix for passages or questions, then the
    backend's own `_encode`."""

    settings: EmbeddingSettings

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Passages (chunks), with the passage prefix: one row per text."""
        return self._encode(self._readable(texts), self.settings.passage_prefix)

    def embed_query(self, texts: Sequence[str]) -> np.ndarray:
        """Questions, with the query prefix: one row per text."""
        return self._encode(self._readable(texts), self.settings.query_prefix)

    def _readable(self, texts: Sequence[str]) -> Sequence[str]:
        check_texts(texts)
        if not self.settings.pseudonym_stand_ins:
            return texts
        return [readable(text) for text in texts]

    def _encode(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        raise NotImplementedError

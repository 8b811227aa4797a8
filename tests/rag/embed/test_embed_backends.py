"""The embedder with the real MiniLM: passages and questions, prefixes, window, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from rag.config import EmbeddingSettings, Settings
from rag.embed import Embedder

TEXTS = ["Employees get 28 days of paid annual leave.", "The freezer code is FRZ-4471."]


@pytest.fixture(scope="module")
def prefixed() -> Embedder:
    """The same model as the default, told to use e5-style prefixes."""
    settings = Settings().embedding.model_copy(
        update={"query_prefix": "query: ", "passage_prefix": "passage: "}
    )
    return Embedder(settings)


def test_passages_and_questions_are_unit_vectors_of_the_model_dimension(embedder):
    passages = embedder.embed(TEXTS)
    questions = embedder.embed_query(["How much leave do we get?"])
    assert passages.shape == (2, embedder.dimension) and passages.dtype == np.float32
    assert questions.shape == (1, embedder.dimension)
    assert np.linalg.norm(passages, axis=1) == pytest.approx([1.0, 1.0], abs=1e-5)
    # Without prefixes a question is embedded as a passage would be.
    assert embedder.embed_query(TEXTS) == pytest.approx(passages, abs=1e-5)
    assert embedder.embed([]).shape == (0, embedder.dimension)


def test_prefixes_are_prepended_to_questions_and_passages(embedder, prefixed):
    assert prefixed.embed(TEXTS) == pytest.approx(
        embedder.embed([f"passage: {t}" for t in TEXTS]), abs=1e-5
    )
    assert prefixed.embed_query(TEXTS) == pytest.approx(
        embedder.embed([f"query: {t}" for t in TEXTS]), abs=1e-5
    )
    # The prefix changes the vector: a passage and a question of the same text differ.
    assert not np.allclose(prefixed.embed(TEXTS[:1]), prefixed.embed_query(TEXTS[:1]), atol=1e-3)


def test_the_window_setting_truncates_long_texts(embedder):
    short = Embedder(Settings().embedding.model_copy(update={"max_seq_length": 16}))
    assert short.max_tokens == 16
    long_text = " ".join(["annual leave"] * 20) + " and finally something about freezers"
    # Beyond 16 tokens the text is cut: the ending no longer changes the vector.
    assert short.embed([long_text]) == pytest.approx(
        short.embed([" ".join(["annual leave"] * 20)]), abs=1e-5
    )
    assert not np.allclose(
        embedder.embed([long_text]), embedder.embed([" ".join(["annual leave"] * 20)]), atol=1e-3
    )


def test_a_single_string_is_refused_not_embedded_letter_by_letter(embedder):
    with pytest.raises(TypeError, match="list of texts"):
        embedder.embed_query("How much leave do we get?")
    with pytest.raises(TypeError, match="list of texts"):
        embedder.embed("a passage")


def test_settings_reject_nonsense():
    with pytest.raises(ValueError):
        EmbeddingSettings(batch_size=0)
    with pytest.raises(ValueError):
        EmbeddingSettings(max_seq_length=2)
    assert EmbeddingSettings(max_seq_length=None).max_seq_length is None

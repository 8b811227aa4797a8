"""The contract every embedding backend keeps, with the real MiniLM: passages and questions,
prefixes, window, bad input; and the onnx and openvino backends' vectors against torch's.

The openvino backends are collected only in the pytest process of their own that
test_openvino_process.py starts (conftest.py says why)."""

from __future__ import annotations

import numpy as np
import pytest

from rag.config import EmbeddingSettings, Settings
from rag.embed import Embedder, load_embedder
from tests.rag.embed.conftest import OPENVINO_HERE

TEXTS = ["Employees get 28 days of paid annual leave.", "The freezer code is FRZ-4471."]
BACKENDS = {
    "torch": {"backend": "torch"},
    "onnx-int8": {"backend": "onnx", "onnx_quantization": "int8"},
    "onnx-fp32": {"backend": "onnx", "onnx_quantization": "none"},
}
if OPENVINO_HERE:
    BACKENDS |= {
        "openvino-int8": {"backend": "openvino", "onnx_quantization": "int8"},
        # OpenVINO runs a float32 model in bfloat16 on a CPU that has it (AVX-512 BF16, AMX).
        "openvino-fp32": {"backend": "openvino", "onnx_quantization": "none"},
    }
# Float32 vectors differ from torch's by rounding only; the others by their 8 or 16 bits.
EXACT = {"torch", "onnx-fp32"}


def _settings(backend: str, **update) -> EmbeddingSettings:
    return Settings().embedding.model_copy(update={**BACKENDS[backend], **update})


@pytest.fixture(scope="module", params=list(BACKENDS))
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def embedder(backend) -> Embedder:
    return load_embedder(_settings(backend))


@pytest.fixture(scope="module")
def torch_embedder() -> Embedder:
    return load_embedder(_settings("torch"))


def test_passages_and_questions_are_unit_vectors_of_the_model_dimension(embedder):
    passages = embedder.embed(TEXTS)
    questions = embedder.embed_query(["How much leave do we get?"])
    assert passages.shape == (2, embedder.dimension) and passages.dtype == np.float32
    assert questions.shape == (1, embedder.dimension)
    assert np.linalg.norm(passages, axis=1) == pytest.approx([1.0, 1.0], abs=1e-5)
    # Without prefixes a question is embedded as a passage would be.
    assert embedder.embed_query(TEXTS) == pytest.approx(passages, abs=1e-5)
    assert embedder.embed([]).shape == (0, embedder.dimension)


def test_a_text_gets_the_same_vector_alone_and_in_a_batch_of_other_lengths(embedder, backend):
    batch = embedder.embed([TEXTS[0], "short", TEXTS[1] * 5, TEXTS[1]])
    alone = embedder.embed(TEXTS)
    cosines = [float(batch[0] @ alone[0]), float(batch[3] @ alone[1])]
    # Dynamic int8 quantization scales activations per batch: its vectors move a little with
    # their batch mates (and the padding moves bfloat16 sums); float32 ones only by rounding.
    assert min(cosines) > (0.99999 if backend in EXACT else 0.99)


def test_prefixes_are_prepended_to_questions_and_passages(embedder, backend):
    prefixed = load_embedder(_settings(backend, query_prefix="query: ", passage_prefix="passage: "))
    assert prefixed.embed(TEXTS) == pytest.approx(
        embedder.embed([f"passage: {t}" for t in TEXTS]), abs=1e-5
    )
    assert prefixed.embed_query(TEXTS) == pytest.approx(
        embedder.embed([f"query: {t}" for t in TEXTS]), abs=1e-5
    )
    # The prefix changes the vector: a passage and a question of the same text differ.
    assert not np.allclose(prefixed.embed(TEXTS[:1]), prefixed.embed_query(TEXTS[:1]), atol=1e-3)


def test_the_window_setting_truncates_long_texts(embedder, backend):
    short = load_embedder(_settings(backend, max_seq_length=16))
    assert short.max_tokens == 16 and embedder.max_tokens == 256
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


def test_the_chunkers_tokenizer_gives_offsets(embedder):
    encoded = embedder.tokenizer(
        "Annual leave", add_special_tokens=False, return_offsets_mapping=True
    )
    assert encoded["offset_mapping"][0] == (0, 6)


def test_every_backend_makes_the_vectors_torch_makes(embedder, backend, torch_embedder):
    texts = TEXTS + ["Quarterly revenue rose 8 % to $83.0 billion, driven by services."]
    cosines = (embedder.embed(texts) * torch_embedder.embed(texts)).sum(axis=1)
    # int8 weights move a vector a little; float32 only by rounding.
    assert cosines.min() > (0.9999 if backend in EXACT else 0.97)


def test_token_vectors_are_the_texts_tokens_before_pooling(embedder):
    text = "  Employees get 28 days of paid annual leave."
    tokens = embedder.embed_tokens([text, "short"])[0]
    words = [text[start:end] for start, end in tokens.spans]
    # Each token's characters in the text as given (the stripped spaces counted), no [CLS]
    # or [SEP]; a word of several pieces is its pieces.
    assert words[:4] == ["Employees", "get", "28", "days"] and words[-1] == "."
    assert tokens.vectors.shape == (len(words), embedder.dimension)
    assert tokens.vectors.dtype == np.float32
    # Mean pooling of these (the special tokens left out) is nearly the sentence's vector.
    pooled = tokens.vectors.mean(axis=0)
    assert float(pooled @ embedder.embed([text])[0]) / np.linalg.norm(pooled) > 0.97
    assert embedder.embed_tokens([]) == []
    with pytest.raises(TypeError, match="list of texts"):
        embedder.embed_tokens("a passage")


def test_token_vectors_leave_the_prefix_out(embedder, backend):
    prefixed = load_embedder(_settings(backend, query_prefix="query: ", passage_prefix="passage: "))
    question = prefixed.embed_query_tokens(["How much leave?"])[0]
    assert ["How much leave?"[s:e] for s, e in question.spans] == ["How", "much", "leave", "?"]
    passage = prefixed.embed_tokens([TEXTS[0]])[0]
    assert TEXTS[0][slice(*passage.spans[0])] == "Employees"


def test_token_vectors_of_a_pseudonym_span_the_pseudonym(embedder, backend):
    stand_ins = load_embedder(_settings(backend, pseudonym_stand_ins=True))
    text = "Ask <PERSON_0a1b2c3d4e5f6a7b> about leave."
    tokens = stand_ins.embed_tokens([text])[0]
    shown = [text[s:e] for s, e in tokens.spans]
    # The model reads two name words in its place; both tokens point at the pseudonym.
    pseudonym = "<PERSON_0a1b2c3d4e5f6a7b>"
    assert shown == ["Ask", pseudonym, pseudonym, "about", "leave", "."]


def test_every_backend_makes_the_token_vectors_torch_makes(embedder, backend, torch_embedder):
    text = "Quarterly revenue rose 8 % to $83.0 billion, driven by services."
    ours, theirs = embedder.embed_tokens([text])[0], torch_embedder.embed_tokens([text])[0]
    assert np.array_equal(ours.spans, theirs.spans)
    cosines = (ours.vectors * theirs.vectors).sum(axis=1) / (
        np.linalg.norm(ours.vectors, axis=1) * np.linalg.norm(theirs.vectors, axis=1)
    )
    assert cosines.min() > (0.9999 if backend in EXACT else 0.95)


def test_settings_reject_nonsense():
    with pytest.raises(ValueError):
        EmbeddingSettings(batch_size=0)
    with pytest.raises(ValueError):
        EmbeddingSettings(max_seq_length=2)
    with pytest.raises(ValueError, match="onnx runs on the CPU"):
        EmbeddingSettings(backend="onnx", device="cuda")
    with pytest.raises(ValueError, match="openvino runs on the CPU"):
        EmbeddingSettings(backend="openvino", device="cuda")
    assert EmbeddingSettings(max_seq_length=None).max_seq_length is None

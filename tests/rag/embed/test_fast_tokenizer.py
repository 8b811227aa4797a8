"""The onnx backend's tokenizer gives what transformers' fast tokenizer gives, on the same files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rag.config import Settings
from rag.embed.fast_tokenizer import FastTokenizer
from rag.model_paths import resolve_model_path
from tests.conftest import EXAMPLES, shared_eval

WINDOW = 256
TRICKY = [
    "",
    "   ",
    "Jürgen Müller's café — naïve résumé, Ångström.",
    "東京 office: 会議 at 10:00; 😀 emoji and\ttabs\nnew lines",
    "A pseudonym <PERSON_1a2b3c4d5e6f7a8b> and an e-mail <EMAIL_ADDRESS_00ff>.",
    "Net income; Nine Months Ended June 25, 2022: $79,082 (in millions)",
    "word " * 400,  # longer than the window: cut
]


@pytest.fixture(scope="module")
def model_dir():
    return resolve_model_path(Settings().embedding.model, "embedding")


@pytest.fixture(scope="module")
def reference(model_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    tokenizer.model_max_length = WINDOW
    return tokenizer


def _texts() -> list[str]:
    texts = list(TRICKY)
    for path in sorted(EXAMPLES.glob("*")):
        if path.suffix in (".md", ".txt", ".html"):
            texts += [part for part in path.read_text().split("\n\n") if part.strip()]
    return texts


def _assert_same_batches(texts, ours, theirs) -> None:
    for start in range(0, len(texts), 32):
        batch = texts[start : start + 32]
        kwargs = dict(
            padding=True,
            truncation=True,
            max_length=WINDOW,
            return_offsets_mapping=True,
            return_tensors="np",
        )
        got, expected = ours(batch, **kwargs), theirs(batch, **kwargs)
        for name in ("input_ids", "token_type_ids", "attention_mask", "offset_mapping"):
            assert np.array_equal(got[name], expected[name]), (name, start)


def test_batches_for_the_embedder_are_the_same_as_transformers(model_dir, reference):
    texts = _texts()
    assert len(texts) > 15
    _assert_same_batches(texts, FastTokenizer(model_dir, WINDOW), reference)


def test_pages_for_the_chunker_are_the_same_as_transformers(model_dir, reference):
    ours = FastTokenizer(model_dir, WINDOW)
    for text in _texts():
        kwargs = dict(add_special_tokens=False, return_offsets_mapping=True, verbose=False)
        got, expected = ours(text, **kwargs), reference(text, **kwargs)
        assert got["input_ids"] == expected["input_ids"]
        assert [tuple(s) for s in got["offset_mapping"]] == [
            tuple(s) for s in expected["offset_mapping"]
        ]
    # Not cut to the window: the chunker counts every token of a long page.
    assert len(ours("word " * 400, add_special_tokens=False)["input_ids"]) == 400


def test_squad_passages_are_tokenized_the_same_as_transformers(model_dir, reference):
    corpus = shared_eval("squad-dev", "corpus.jsonl")
    with corpus.open() as lines:
        texts = [json.loads(line)["text"] for _, line in zip(range(300), lines, strict=False)]
    _assert_same_batches(texts, FastTokenizer(model_dir, WINDOW), reference)


def test_a_model_without_tokenizer_json_is_refused_with_the_way_out(tmp_path):
    with pytest.raises(ValueError, match="use embedding.backend torch"):
        FastTokenizer(tmp_path, WINDOW)

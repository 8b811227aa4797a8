"""The embedding model's tokenizer through the `tokenizers` library alone.

The same Rust tokenizer and tokenizer.json that transformers' fast tokenizer wraps, so the same
ids, masks and character offsets (tests/rag/embed/test_fast_tokenizer.py compares them), without
importing transformers, which imports torch: ~5 s and ~335 MB in every ingest process, for a
backend (onnx) that runs neither. Called as transformers' tokenizers are, for the subset of
arguments the chunker and the onnx backend pass.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np


class FastTokenizer:
    def __init__(self, model_dir: Path, max_length: int) -> None:
        from tokenizers import Tokenizer

        file = model_dir / "tokenizer.json"
        if not file.is_file():
            raise ValueError(
                f"the embedding model has no tokenizer.json ({model_dir}): "
                "embedding.backend onnx needs one; use embedding.backend torch"
            )
        self._tokenizer = Tokenizer.from_file(str(file))
        config_file = model_dir / "tokenizer_config.json"
        config = json.loads(config_file.read_text()) if config_file.is_file() else {}
        pad_token = config.get("pad_token") or "[PAD]"
        if isinstance(pad_token, dict):  # an AddedToken written out in full
            pad_token = pad_token["content"]
        self._pad = (pad_token, self._tokenizer.token_to_id(pad_token) or 0)
        # tokenizer.json may carry the padding and cutting it was saved with (MiniLM's: 128
        # tokens); as in transformers, each call says its own.
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        self.model_max_length = max_length

    def __call__(
        self,
        text: str | Sequence[str],
        *,
        add_special_tokens: bool = True,
        padding: bool = False,
        truncation: bool = False,
        max_length: int | None = None,
        return_offsets_mapping: bool = False,
        return_tensors: str | None = None,
        verbose: bool = True,  # noqa: ARG002 - transformers' warning switch; nothing to warn
    ) -> dict:
        """input_ids, token_type_ids, attention_mask (and offset_mapping): lists for one text,
        a list per text for several, or int64 arrays with return_tensors="np"."""
        if return_tensors not in (None, "np"):
            raise ValueError(f"return_tensors {return_tensors!r}: only 'np' is supported")
        single = isinstance(text, str)
        texts = [text] if single else list(text)
        if truncation:
            self._tokenizer.enable_truncation(max_length or self.model_max_length)
        else:
            self._tokenizer.no_truncation()
        if padding:
            self._tokenizer.enable_padding(pad_token=self._pad[0], pad_id=self._pad[1])
        else:
            self._tokenizer.no_padding()
        encodings = self._tokenizer.encode_batch(texts, add_special_tokens=add_special_tokens)
        fields = {
            "input_ids": [e.ids for e in encodings],
            "token_type_ids": [e.type_ids for e in encodings],
            "attention_mask": [e.attention_mask for e in encodings],
        }
        if return_offsets_mapping:
            fields["offset_mapping"] = [e.offsets for e in encodings]
        if return_tensors == "np":
            return {name: np.array(rows, dtype=np.int64) for name, rows in fields.items()}
        if single:
            return {name: rows[0] for name, rows in fields.items()}
        return fields

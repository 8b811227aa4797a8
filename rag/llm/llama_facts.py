"""`StatedFacts` applied while llama.cpp generates: a logits processor that leaves the model
only the tokens that keep its answer allowed.

Cheaper than a grammar: llama.cpp's grammar sampler matches every token of the vocabulary at
every step (on the 135M model, generation took 2.5-3x the CPU). Here only the best few
candidates are tried, best first, and the rest are masked; a whole-vocabulary walk happens only
when none of them is allowed. The repeat penalty and the choice (greedy or sampled) then run
as usual among the allowed ones.

A character beyond ASCII may come in pieces: the 135M model's vocabulary spells "同" or "Π" as
two or more tokens of one UTF-8 byte or two. Such a token has no text of its own, so it is
judged by the characters it can still become (`StatedFacts.beyond_ascii`): without that, a byte
token passed as "" and answers ended "Fort M同" or "Crusad鎨".
"""

from __future__ import annotations

import codecs
from collections.abc import Sequence

import numpy as np

from rag.llm.facts import StatedFacts

# Candidates tried before the rest of the vocabulary: greedy decoding needs one allowed token,
# the repeat penalty and sampling a few to choose from.
CANDIDATES = 40


class TokenTexts:
    """The bytes and text of each token of a loaded model, read once (49k tokens: ~0.1 s)."""

    def __init__(self, llm) -> None:
        self.eos = llm.token_eos()
        self._llm = llm
        self._bytes = [llm.detokenize([token]) for token in range(llm.n_vocab())]
        self._texts = [piece.decode("utf-8", errors="ignore") for piece in self._bytes]

    def __getitem__(self, token: int) -> str:
        return self._texts[token]

    def bytes_of(self, token: int) -> bytes:
        return self._bytes[token]

    def text(self, tokens: Sequence[int]) -> str:
        """The text of a run of tokens (a character split over two tokens comes out whole)."""
        return self._llm.detokenize(list(tokens)).decode("utf-8", errors="ignore")

    def text_and_pending(self, tokens: Sequence[int]) -> tuple[str, bytes]:
        """The text of a run of tokens, and the bytes at its end of a character not yet whole."""
        return _decode(self._llm.detokenize(list(tokens)))


def _decode(data: bytes) -> tuple[str, bytes]:
    """(the whole characters of UTF-8 `data`, the bytes that start one more); UnicodeDecodeError
    where `data` is no UTF-8 at all."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    text = decoder.decode(data, final=False)
    return text, decoder.getstate()[0]


class FactsProcessor:
    """A llama-cpp-python logits processor holding one generation to `facts`."""

    def __init__(self, tokens: TokenTexts, facts: Sequence[str]) -> None:
        self._tokens = tokens
        self._rule = StatedFacts(facts)
        self._beyond_ascii = [(c, c.encode("utf-8")) for c in self._rule.beyond_ascii]
        self._prompt_length: int | None = None

    def __call__(self, input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        if self._prompt_length is None:  # the first call sees the prompt alone
            self._prompt_length = len(input_ids)
        text, pending = self._tokens.text_and_pending(input_ids[self._prompt_length :])
        so_far = (self._rule.unfinished(text), pending)
        best = np.argpartition(scores, -CANDIDATES)[-CANDIDATES:]
        allowed = [t for t in best[np.argsort(-scores[best])] if self._allows(so_far, int(t))]
        if not allowed:
            allowed = self._first_allowed(so_far, scores)
        kept = np.full_like(scores, -np.inf)
        kept[allowed] = scores[allowed]
        return kept

    def _allows(self, so_far: tuple[str, bytes], token: int) -> bool:
        said, pending = so_far
        if token == self._tokens.eos:
            return not pending and self._rule.ends(said)
        piece = self._tokens.bytes_of(token)
        if not piece:
            return False  # a control token (another end-of-text among them): no answer's text
        if not pending and piece.isascii():
            return self._rule.allows(said + self._tokens[token])  # the common case, cheaply
        if pending and not 0x80 <= piece[0] < 0xC0:
            return False  # a character was begun: only its next byte may follow
        try:
            added, still_pending = _decode(pending + piece)
        except UnicodeDecodeError:
            return False
        said += added
        if not self._rule.allows(said):
            return False
        return not still_pending or any(
            encoded.startswith(still_pending) and self._rule.allows(said + character)
            for character, encoded in self._beyond_ascii
        )

    def _first_allowed(self, so_far: tuple[str, bytes], scores: np.ndarray) -> list[int]:
        for token in np.argsort(-scores):
            if self._allows(so_far, int(token)):
                return [int(token)]
        return [self._tokens.eos]  # nothing else may follow: end the answer here

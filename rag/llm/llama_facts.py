"""`StatedFacts` applied while llama.cpp generates: a logits processor that leaves the model
only the tokens that keep its answer allowed.

Cheaper than a grammar: llama.cpp's grammar sampler matches every token of the vocabulary at
every step (on the 135M model, generation took 2.5-3x the CPU). Here only the best few
candidates are tried, best first, and the rest are masked; a whole-vocabulary walk happens only
when none of them is allowed. The repeat penalty and the choice (greedy or sampled) then run
as usual among the allowed ones.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rag.llm.facts import StatedFacts

# Candidates tried before the rest of the vocabulary: greedy decoding needs one allowed token,
# the repeat penalty and sampling a few to choose from.
CANDIDATES = 40


class TokenTexts:
    """The text of each token of a loaded model, read once (49k tokens: ~0.1 s)."""

    def __init__(self, llm) -> None:
        self.eos = llm.token_eos()
        self._llm = llm
        self._texts = [self.text([token]) for token in range(llm.n_vocab())]

    def __getitem__(self, token: int) -> str:
        return self._texts[token]

    def text(self, tokens: Sequence[int]) -> str:
        """The text of a run of tokens (a character split over two tokens comes out whole)."""
        return self._llm.detokenize(list(tokens)).decode("utf-8", errors="ignore")


class FactsProcessor:
    """A llama-cpp-python logits processor holding one generation to `facts`."""

    def __init__(self, tokens: TokenTexts, facts: Sequence[str]) -> None:
        self._tokens = tokens
        self._rule = StatedFacts(facts)
        self._prompt_length: int | None = None

    def __call__(self, input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        if self._prompt_length is None:  # the first call sees the prompt alone
            self._prompt_length = len(input_ids)
        so_far = self._rule.unfinished(self._tokens.text(input_ids[self._prompt_length :]))
        best = np.argpartition(scores, -CANDIDATES)[-CANDIDATES:]
        allowed = [t for t in best[np.argsort(-scores[best])] if self._allows(so_far, int(t))]
        if not allowed:
            allowed = self._first_allowed(so_far, scores)
        kept = np.full_like(scores, -np.inf)
        kept[allowed] = scores[allowed]
        return kept

    def _allows(self, so_far: str, token: int) -> bool:
        if token == self._tokens.eos:
            return self._rule.ends(so_far)
        return self._rule.allows(so_far + self._tokens[token])

    def _first_allowed(self, so_far: str, scores: np.ndarray) -> list[int]:
        for token in np.argsort(-scores):
            if self._allows(so_far, int(token)):
                return [int(token)]
        return [self._tokens.eos]  # nothing else may follow: end the answer here

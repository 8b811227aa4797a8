"""A bench-only decoding lever (issue 18): the answer must be a span of the quotes shown.

Measured in bench/answer_prompts.py (variants `span`, `span-copy`, `span-lead`) and not kept:
the 135M model copies a whole sentence from its start, or a wrong span (bench/RESULTS.md,
"The answer as a span of its quotes").

A llama-cpp-python logits processor: after the text generated so far (leading spaces aside),
only the tokens whose text continues one of its occurrences in a quote are left, and the end
of the answer only where the text ends at a quote's word boundary.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

LONGEST_TOKEN = 24  # characters: no token of the model's vocabulary is longer


def token_ids_by_text(tokens, n_vocab: int) -> dict[str, list[int]]:
    """Each token text of the vocabulary, and the tokens that spell it."""
    by_text: dict[str, list[int]] = {}
    for token in range(n_vocab):
        by_text.setdefault(tokens[token], []).append(token)
    return by_text


class QuoteSpans:
    """Where an answer that must be a span of `quotes` may go on, and where it may end."""

    def __init__(self, quotes: Sequence[str]) -> None:
        self.quotes = [" ".join(q.split()) for q in quotes if q.strip()]

    def rests(self, so_far: str) -> list[str]:
        """The quote texts that may follow `so_far` (at the start: every word's start)."""
        said = so_far.lstrip()
        rests: list[str] = []
        for quote in self.quotes:
            if not said:
                starts = (i for i in range(len(quote)) if i == 0 or not quote[i - 1].isalnum())
                rests.extend(quote[i:] for i in starts)
                continue
            at = quote.find(said)
            while at != -1:
                rests.append(quote[at + len(said) :])
                at = quote.find(said, at + 1)
        return rests

    def ends(self, so_far: str) -> bool:
        said = so_far.strip()
        if not said or said != so_far.lstrip():
            return False
        for quote in self.quotes:
            at = quote.find(said)
            while at != -1:
                end = at + len(said)
                if end == len(quote) or not quote[end].isalnum():
                    return True
                at = quote.find(said, at + 1)
        return False


class SpanProcessor:
    def __init__(self, tokens, quotes: Sequence[str], by_text: dict[str, list[int]]) -> None:
        self._tokens = tokens  # rag.llm.llama_facts.TokenTexts
        self._by_text = by_text
        self._spans = QuoteSpans(quotes)
        self._prompt_length: int | None = None

    def __call__(self, input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        if self._prompt_length is None:  # the first call sees the prompt alone
            self._prompt_length = len(input_ids)
        so_far = self._tokens.text(input_ids[self._prompt_length :])
        at_start = not so_far.strip()
        allowed: set[int] = set()
        for rest in self._spans.rests(so_far):
            for size in range(1, min(LONGEST_TOKEN, len(rest)) + 1):
                allowed.update(self._by_text.get(rest[:size], ()))
                if at_start:
                    allowed.update(self._by_text.get(" " + rest[:size], ()))
        if self._spans.ends(so_far) or not allowed:
            allowed.add(self._tokens.eos)
        kept = np.full_like(scores, -np.inf)
        ids = np.fromiter(allowed, dtype=np.int64)
        kept[ids] = scores[ids]
        return kept

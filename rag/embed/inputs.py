"""What every embedding backend checks of its input."""

from __future__ import annotations

from collections.abc import Sequence


def check_texts(texts: Sequence[str]) -> None:
    if isinstance(texts, str):
        # A str is a sequence of characters: embedding each one is never what was meant.
        raise TypeError("embed a list of texts, not a single str (wrap it: [text])")

"""The asker's own values in an answer: which pseudonyms may be shown as themselves, and
putting them back, in a whole text or in a stream of pieces."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

# What a stream holds back, as the start of a pseudonym that may end in the next piece.
_TOKEN_START = re.compile(r"<[A-Z_]{0,60}[0-9a-f]{0,64}\Z")


def asker_values(turns: Iterable[dict[str, str]], cap: int) -> dict[str, str]:
    """The values an answer may show as themselves: {pseudonym: value} of the asker's own
    turns (`turns`: the current question first, then their earlier turns, newest first; each
    in the order typed), at most `cap` of them. Only what the asker typed, and only a few: a
    pasted staff directory must not reveal who appears in which passage."""
    chosen: dict[str, str] = {}
    for originals in turns:
        for token, value in originals.items():
            if len(chosen) >= cap:
                return chosen
            chosen.setdefault(token, value)
    return chosen


def restore_pseudonyms(text: str, originals: dict[str, str]) -> str:
    """Show the asker's own values in place of their pseudonyms; every other token stays."""
    for token, value in originals.items():
        text = text.replace(token, value)
    return text


def restore_pieces(pieces: Iterator[str], originals: dict[str, str]) -> Iterator[str]:
    """`restore_pseudonyms` over a stream of pieces: text from an unclosed '<' is held back
    until the token closes (or clearly is not one)."""
    if not originals:
        yield from pieces
        return
    held = ""
    for piece in _closing(pieces):
        held += piece
        cut = held.rfind("<")
        if cut == -1 or not _TOKEN_START.match(held, cut):
            yield restore_pseudonyms(held, originals)
            held = ""
        elif cut > 0:
            yield restore_pseudonyms(held[:cut], originals)
            held = held[cut:]
    if held:
        yield restore_pseudonyms(held, originals)


def _closing(pieces: Iterator[str]) -> Iterator[str]:
    """`pieces`, closed as soon as the reader stops early (a timeout, a client gone): a
    backend's stream releases its model only when closed, and a plain `for` never closes it."""
    try:
        yield from pieces
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            close()

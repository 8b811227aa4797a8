"""The tokens of each word of a hidden multi-word name, so that a question naming one word of it
meets the chunk: "Who taught Newton?" against a passage that says "Isaac Newton".

The anonymizer replaces "Isaac Newton" by one keyed token and a question's "Newton" by another
(or by the token the store holds for "Newton" alone: rag/stored_values.py), and neither search
leg can connect two different tokens. The chunk's header (ingest/chunk.py: chunk_context,
embedded and full-text indexed, never shown) therefore also carries the token each word of the
name would have as a name of its own. Only tokens leave the anonymizer: keyed digests, nothing
anyone without the key can read back.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache

from rag.db.fulltext.base import PSEUDONYM, STOPWORDS
from rag.privacy.recognizers.word_lists import capitalized_words, peoples

# A word of a name: capitalized, two letters or more (an initial "J." names no one alone).
_WORD = re.compile(r"[^\W\d_][\w'’-]+")
_POSSESSIVE = re.compile(r"['’]s?\Z")
# Types whose values are names of several words.
NAME_TYPES = ("PERSON",)
# Titles and ranks before a name ("King Charles", "Saint Nicolas"): alone they name no one.
TITLES = frozenset(
    """king queen prince princess duke duchess earl count countess baron baroness lord lady sir
    dame saint st pope emperor empress tsar czar sultan caliph archbishop bishop cardinal
    general admiral captain colonel president governor mr mrs ms miss dr professor""".split()  # noqa: SIM905
)


def name_parts(
    originals: Mapping[str, str],
    pseudonymize: Callable[[str, str], str],
    types: Iterable[str] = NAME_TYPES,
    common_nouns: Iterable[str] = (),
) -> dict[str, tuple[str, ...]]:
    """token -> the tokens of its value's words, for each token of `types` whose value has two
    words or more (the token itself left out). Left out too: a title ("King", "Saint"), a
    people ("Huguenot Street": peoples.txt), a country, region or month ("Marie de France":
    word_lists.capitalized_words) and a word in `common_nouns` (the document's words
    written in lower case: rag/privacy/name_parts.lowercase_words). A question's word that the
    store holds as a token is searched as that token (rag/stored_values.py): a plain word made
    a token would hide it from every question that says it ("the Huguenot refugees")."""
    types = set(types)
    plain = set(common_nouns)
    parts: dict[str, tuple[str, ...]] = {}
    for token, value in originals.items():
        match = PSEUDONYM.fullmatch(token)
        if match is None or match.group(1) not in types:
            continue
        words = [_POSSESSIVE.sub("", w) for w in _WORD.findall(value)]
        words = [w for w in words if w[:1].isupper() and w.casefold() not in STOPWORDS]
        if len(words) < 2:
            continue
        tokens = dict.fromkeys(
            pseudonymize(match.group(1), word)
            for word in words
            if word.casefold() not in plain and word.casefold() not in _never_parts()
        )
        tokens.pop(token, None)
        if tokens:
            parts[token] = tuple(tokens)
    return parts


@lru_cache(maxsize=1)
def _never_parts() -> frozenset[str]:
    """Titles, peoples, countries, regions, months: built once, not per page (the worker
    asks once per page of every document)."""
    return TITLES | peoples() | frozenset(w.casefold() for w in capitalized_words())


def lowercase_words(text: str) -> set[str]:
    """The words of an anonymized `text` written in lower case outside its pseudonyms: a word
    the document also uses as a common noun ("the king", "a saint") names no one alone. A
    capitalized word is not one of them: "Rankine cycle" and "Watt" of a unit still name
    Rankine and Watt."""
    return {w for w in _WORD.findall(PSEUDONYM.sub(" ", text)) if w.islower()}


def parts_in(text: str, parts: Mapping[str, tuple[str, ...]]) -> list[str]:
    """The word tokens of the multi-word names `text` holds, each once, in order, leaving out
    those `text` holds already."""
    present = [m.group(0) for m in PSEUDONYM.finditer(text)]
    seen = set(present)
    found: list[str] = []
    for token in dict.fromkeys(present):
        for part in parts.get(token, ()):
            if part not in seen:
                seen.add(part)
                found.append(part)
    return found

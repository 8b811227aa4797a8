"""The word lists in lists/ (sources and licences: lists/README.md), loaded once per process."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

LISTS = Path(__file__).parent / "lists"


def _read(name: str) -> frozenset[str]:
    return frozenset(w for w in (LISTS / name).read_text(encoding="utf-8").split() if w)


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Lowercase words of a small everyday English dictionary (SCOWL sizes 10-35)."""
    return _read("common_words.txt")


@lru_cache(maxsize=1)
def capitalized_words() -> frozenset[str]:
    """Everyday words always written Capitalized ("Sunday", "English"), and the names of
    countries, continents and regions and the short month and weekday names that business
    text is full of ("Sep", "Asia", "North America")."""
    return _read("capitalized_words.txt") | _read("place_and_calendar_words.txt")


@lru_cache(maxsize=1)
def given_names() -> frozenset[str]:
    """Capitalized given names of many countries, common words among them ("Will", "Rose")."""
    return _read("given_names.txt")


@lru_cache(maxsize=1)
def surnames() -> frozenset[str]:
    return _read("surnames.txt")


@lru_cache(maxsize=1)
def distinctive_given_names() -> frozenset[str]:
    """Given names that are not also everyday words: alone, they are most likely a name."""
    common, capitalized = common_words(), capitalized_words()
    return frozenset(n for n in given_names() if n.lower() not in common and n not in capitalized)


@lru_cache(maxsize=1)
def distinctive_surnames() -> frozenset[str]:
    common, capitalized = common_words(), capitalized_words()
    return frozenset(n for n in surnames() if n.lower() not in common and n not in capitalized)


@lru_cache(maxsize=1)
def peoples() -> frozenset[str]:
    """Each word of lists/peoples.txt ("Normans", "Huguenot", "Anglo-Norman"), case folded."""
    lines = (LISTS / "peoples.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(w.casefold() for line in lines for w in line.split("#", 1)[0].split() if w)

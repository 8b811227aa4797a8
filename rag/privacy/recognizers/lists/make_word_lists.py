"""Rebuild the word lists beside this file (run by hand, not at run time; see README.md).

    python make_word_lists.py SCOWL_DIR

SCOWL_DIR holds SCOWL's english-words.10/.20/.35 and english-upper.10/.20/.35 (Debian
package `scowl`, /usr/share/dict/scowl). Names come from the `faker` package, which must be
importable (pip install faker==40.54.0; it is not a dependency of the service).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

HERE = Path(__file__).parent
# SCOWL size levels 10-35: the words of a small everyday dictionary.
SCOWL_LEVELS = ("10", "20", "35")
GIVEN = ("first_names", "first_names_male", "first_names_female", "first_names_nonbinary")
SURNAME = ("last_names", "last_names_male", "last_names_female", "last_names_nonbinary")


def common_words(scowl_dir: Path) -> set[str]:
    words = set()
    for level in SCOWL_LEVELS:
        for line in (scowl_dir / f"english-words.{level}").read_text(encoding="latin-1").split():
            if line.isalpha() and line.islower():
                words.add(line)
    return words


def capitalized_common_words(scowl_dir: Path) -> set[str]:
    """Everyday words always written Capitalized: months, weekdays, countries, peoples."""
    words = set()
    for level in SCOWL_LEVELS:
        path = scowl_dir / f"english-upper.{level}"
        if path.is_file():
            words.update(
                w for w in path.read_text(encoding="latin-1").split() if w.isalpha() and len(w) > 1
            )
    return words


def faker_names(attributes: tuple[str, ...]) -> set[str]:
    import faker

    names: set[str] = set()
    person = Path(faker.__file__).parent / "providers" / "person"
    for locale in sorted(p.name for p in person.iterdir() if p.is_dir() and p.name[0] != "_"):
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        for attribute in attributes:
            values = getattr(provider, attribute, None)
            if values and not isinstance(values, property):
                names.update(values.keys() if hasattr(values, "keys") else values)
    return names


def capitalized(name: str) -> bool:
    """One word in a cased script, written Capitalized ("Ana", "Jean-Luc", "O'Neil");
    names in scripts without case cannot be told from other words by shape, so they are out."""
    parts = name.replace("'", "-").split("-")
    return len(name) >= 2 and all(
        p.isalpha() and p[0].isupper() and (len(p) == 1 or p[1:].islower()) for p in parts if p
    )


def name_list(attributes: tuple[str, ...]) -> list[str]:
    # Names that are also common words ("Will", "Rose") stay: the code decides what they mean.
    return sorted(n for n in faker_names(attributes) if capitalized(n))


def main(scowl_dir: str) -> None:
    common = sorted(common_words(Path(scowl_dir)))
    (HERE / "common_words.txt").write_text("\n".join(common) + "\n")
    upper = sorted(capitalized_common_words(Path(scowl_dir)))
    (HERE / "capitalized_words.txt").write_text("\n".join(upper) + "\n")
    (HERE / "given_names.txt").write_text("\n".join(name_list(GIVEN)) + "\n")
    (HERE / "surnames.txt").write_text("\n".join(name_list(SURNAME)) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])

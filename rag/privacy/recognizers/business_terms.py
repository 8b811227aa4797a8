"""PERSON spans that are business words, dropped: the small spaCy model calls many capitalized
words of company documents a person ("Unaudited", "Mac", "Japanese Yen", "Arizona Fab",
"Sherman Act"), and a pseudonym in their place destroys the facts around them.

A span is not a person when
* every word is a business word (lists/business_terms.txt: statement vocabulary, currencies,
  peoples, technology words), a place (lists/places.txt, the countries and months of
  place_and_calendar_words.txt), a company or product name (lists/company_and_product_names.txt,
  or a name the page itself gives a company: "Brookfield" in "Brookfield Asset Management",
  "Activision Blizzard, Inc."), or an everyday word, and at least one is of the first kinds;
* it starts with, or right follows, a company or product name ("Microsoft Viva", "NVIDIA NeMo");
* a company suffix ends or follows it ("Arizona Fab LLC", "Media, Inc."), or a word that ends
  the names of laws, institutions and works ("Sherman Act", "Supreme Court");
* it is a place that is also a name, where the text says it is a place ("in Chandler",
  "Washington, D.C.", "Redmond, Washington");
* a word has a product's shape ("iPhone", "macOS", "AMAZON.COM"), a number word ("Mark One"),
  or it is the "al" of "et al.".
Given names are protected: a page company name is never a word of the name lists (a company
named after a person must not un-hide that person), and a span that starts with a given name
followed by a surname stays ("Mac Miller").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rag.privacy.recognizers.timed_regex import timed
from rag.privacy.recognizers.word_lists import LISTS, common_words, given_names, surnames

_WORD = timed(r"[^\W\d_]+(?:[.][^\W\d_]+)*", name="business_word")
_COMPANY_SUFFIX = (
    r"Inc|Incorporated|Corp|Corporation|LLC|L\.L\.C|Ltd|Limited|plc|PLC|GmbH|AG|SE|S\.A|"
    r"S\.A\.R\.L|N\.V|B\.V|LP|L\.P|LLP|Co|Company|Group|Holdings|Asset Management|Partners|"
    r"Technologies|Networks|Systems|Bank"
)
# Up to four capitalized words before a company suffix: "Brookfield Asset Management",
# "Activision Blizzard, Inc.", "Fortress Credit Co."; the words become the page's companies.
_COMPANY = timed(
    rf"((?:\p{{Lu}}[\p{{L}}&'’.-]*[ ]){{0,3}}\p{{Lu}}[\p{{L}}&'’.-]*),?[ ](?:{_COMPANY_SUFFIX})\b",
    name="business_company_name",
)
# A brand marked as one: "Intel® Core™".
_MARKED = timed(r"(\p{Lu}[\p{L}]+)[ ]?[®™]", name="business_marked_name")
# After the span: a suffix, or "a Washington corporation" (where it was incorporated).
_AFTER_SUFFIX = timed(
    rf",?[ ](?:{_COMPANY_SUFFIX}|corporation|company|partnership)\b", name="business_suffix_after"
)
_PLACE_AFTER = timed(
    r",[ ]?(D\.C\.|U\.S\.A\.|U\.S\.|USA|\p{Lu}\p{L}+(?:[ ]\p{Lu}\p{L}+)?)",
    name="business_place_after",
)
_OF_BEFORE = timed(r"(\p{L}+)[ ]of[ ]?\n?[ ]?$", name="business_of_before")
_WORD_BEFORE = timed(r"(\S+)[ ]$", name="business_word_before")
_PLACE_CUES = frozenset({"in", "at", "near", "across", "throughout", "outside", "within"})
_ARTICLES = frozenset({"the", "a", "an"})
# A lower-case word right after the span that says what it names: "the Jin dynasty", "the
# Norman conquest". Not "era", "principle", "thesis": those follow people ("the Stalin era",
# "the Pauli principle"), who stay hidden.
_NOT_A_PERSON_NEXT = timed(
    r"[ ](dynasty|dynasties|empire|river|province|region|sect|clan|language|languages|conquest"
    r"|architecture)\b",
    name="business_not_a_person_next",
)
# "State of Washington", "King County, Washington", "District of Columbia".
_PLACE_KINDS = frozenset({"state", "city", "county", "district", "province", "commonwealth"})
_US = frozenset({"d.c.", "u.s.a.", "u.s.", "usa"})
# Words that end the names of laws, institutions, events and works, never a person's (those
# that are also surnames, as Court or Park, are taken out when the lists load).
_TAILS = frozenset(
    {"Act", "Acts", "Code", "Agreement", "Plan", "Program", "Programme", "Fund", "Court"}
    | {"Commission", "Committee", "Council", "Board", "Report", "Index", "Notes", "Exchange"}
    | {"Rule", "Rules", "Regulation", "Directive", "Treaty", "Award", "Awards", "Prize"}
    | {"Cup", "Series", "Foundation", "University", "Institute", "College", "School"}
    | {"Hospital", "Cathedral", "Museum", "Library", "Stadium", "Arena", "Airport"}
    | {"League", "Championship", "Party", "Movement", "Empire", "Kingdom", "Republic"}
    | {"Dynasty", "War", "Revolution", "Festival", "Games", "Olympics", "Bowl", "Tower"}
    | {"Building", "Center", "Centre", "Palace", "Castle", "Church", "Abbey", "Province"}
    | {"District", "County", "Region", "Valley", "River", "Mountains", "Island", "Islands"}
    | {"Ocean", "Sea", "Desert", "Bay", "Channel", "Canal", "Strait", "Peninsula", "Basin"}
    | {"Inc", "Corp", "Corporation", "LLC", "Ltd", "Limited", "Company", "Group", "Holdings"}
)
_NUMBERS = frozenset(
    {"One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten"}
    | {"First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth", "Ninth"}
)


def _lines(name: str) -> frozenset[str]:
    """Entries of a list file, one a line, '#' comments, case folded."""
    entries = set()
    for line in (LISTS / name).read_text(encoding="utf-8").splitlines():
        entry = " ".join(line.split("#", 1)[0].split())
        if entry:
            entries.add(entry.casefold())
    return frozenset(entries)


@dataclass(frozen=True)
class _Lists:
    business: frozenset[str]  # single words and phrases, case folded
    brands: frozenset[str]
    places: frozenset[str]
    places_also_names: frozenset[str]
    peoples: frozenset[str]
    peoples_also_names: frozenset[str]
    names: frozenset[str]  # given names and surnames as written ("Ana", "Souza")
    given: frozenset[str]
    surnames: frozenset[str]
    common: frozenset[str]
    tails: frozenset[str]
    listed: frozenset[str]  # every entry of the place, brand and business lists


@lru_cache(maxsize=1)
def _lists() -> _Lists:
    calendar_text = (LISTS / "place_and_calendar_words.txt").read_text(encoding="utf-8")
    calendar = {w.casefold() for w in calendar_text.split()}  # several words a line
    ambiguous = _lines("places_also_names.txt")
    given, family = given_names(), surnames()
    names = {n.casefold() for n in given | family}
    peoples = _lines("peoples.txt")
    business = _lines("business_terms.txt")
    brands = _lines("company_and_product_names.txt")
    places = (_lines("places.txt") | calendar) - ambiguous
    return _Lists(
        business=business,
        brands=brands,
        places=places,
        places_also_names=ambiguous,
        peoples=peoples - names,
        peoples_also_names=peoples & names,
        names=given | family,
        given=given,
        surnames=family,
        common=common_words(),
        tails=frozenset(t.casefold() for t in _TAILS - family),
        listed=places | brands | business,
    )


def page_companies(text: str) -> frozenset[str]:
    """Words the page uses as a company or brand name ("Brookfield", "Activision"), case
    folded; never a word of the name lists, so "Ana Souza Ltd" un-hides no Ana Souza."""
    lists = _lists()
    words = [m.group(1) for m in _COMPANY.finditer(text)]
    words += [m.group(1) for m in _MARKED.finditer(text)]
    found = set()
    for phrase in words:
        for word in phrase.split():
            word = _strip_possessive(word).strip(".,&")
            if word and word.title() not in lists.names and word.lower() not in lists.common:
                found.add(word.casefold())
    return frozenset(found)


def is_business_term(text: str, start: int, end: int, companies: frozenset[str]) -> bool:
    """Whether the PERSON span text[start:end] is a business word, not a person."""
    lists = _lists()
    value = _strip_possessive(text[start:end])
    words = [m.group() for m in _WORD.finditer(value)]
    if not words:
        return False
    if _product_shape(words) or _et_al(text, start, words):
        return True
    # The tail word on the same line only: "Silvia J Křenová\n\nAirport" is a name.
    tail = "\n" not in value and words[-1].casefold() in lists.tails
    if tail or _AFTER_SUFFIX.match(text, end):
        return True
    folded = [w.casefold() for w in words]
    listed = " ".join(folded) in lists.listed
    if _given_then_surname(words, lists) and not listed:
        return False  # "Mac Miller", "Georgia Brown"; "Santa Clara" is listed as a place
    kinds = _kinds(folded, lists, companies)
    if kinds[0] == "brand":
        return True  # "Microsoft Viva", "Xbox Game Pass"
    if _follows_brand(text, start, lists, companies):
        return True  # "NVIDIA NeMo"
    if "place?" in kinds and _said_to_be_a_place(text, start, end, lists):
        kinds = ["place" if k == "place?" else k for k in kinds]
    if "people?" in kinds and (
        _after_article(text, start)
        or (len(kinds) > 1 and all(k in {"people", "people?", "place"} for k in kinds))
    ):
        kinds = ["people" if k == "people?" else k for k in kinds]  # "the Norman abbot"
    if _NOT_A_PERSON_NEXT.match(text, end):
        return True  # "the Jin dynasty"
    if (
        kinds == ["name"]
        and words[0].title() not in lists.names
        and text[end : end + 1] not in {"'", "’"}
        and _place_cue_before(text, start)
    ):
        return True  # "in Kraków": a word no name list knows, after a place word
    if any(w.title() in _NUMBERS for w in words) and all(k != "name" for k in kinds):
        return True  # "Mark One"
    if all(k == "common" for k in kinds) and not any(w.title() in lists.names for w in words):
        return True  # "Supplemental Disclosures": everyday words, none of them a name
    if _in_heading(text, start, end, words, lists):
        return True  # "LEGAL, REGULATORY, AND LITIGATION RISKS"
    strong = {"business", "brand", "place", "people"}
    return any(k in strong for k in kinds) and all(k in strong | {"common"} for k in kinds)


def _kinds(folded: list[str], lists: _Lists, companies: frozenset[str]) -> list[str]:
    """Each word's kind: business, brand, place, place? (a place that is also a name), common
    (an everyday word), name. A phrase of the lists marks all its words ("north america")."""
    kinds = [""] * len(folded)
    for size in (3, 2):
        for i in range(len(folded) - size + 1):
            phrase = " ".join(folded[i : i + size])
            for kind, entries in (
                ("place", lists.places),
                ("people", lists.peoples),
                ("brand", lists.brands),
                ("business", lists.business),
            ):
                if phrase in entries:
                    kinds[i : i + size] = [kind] * size
    for i, word in enumerate(folded):
        if kinds[i]:
            continue
        if word in lists.business:
            kinds[i] = "business"
        elif word in lists.brands or word in companies:
            kinds[i] = "brand"
        elif word in lists.places:
            kinds[i] = "place"
        elif word in lists.places_also_names:
            kinds[i] = "place?"
        elif word in lists.peoples:
            kinds[i] = "people"
        elif word in lists.peoples_also_names:
            kinds[i] = "people?"
        elif _everyday(word, lists.common):
            kinds[i] = "common"
        else:
            kinds[i] = "name"
    return kinds


def _everyday(word: str, common: frozenset[str]) -> bool:
    """An everyday word, plurals too ("disclosures": the small dictionary lists few plurals)."""
    if word in common:
        return True
    if len(word) < 4 or not word.endswith("s"):
        return False
    return word[:-1] in common or (word.endswith("es") and word[:-2] in common)


def _in_heading(text: str, start: int, end: int, words: list[str], lists: _Lists) -> bool:
    """An all-capitals span in an all-capitals line of three words or more, mostly everyday
    words, none of the span's words a name ("/s/ SATYA NADELLA" is no heading)."""
    if not all(w.isupper() for w in words) or any(w.title() in lists.names for w in words):
        return False
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    line_words = [m.group() for m in _WORD.finditer(line)]
    if len(line_words) < 3 or not all(w.isupper() for w in line_words):
        return False
    everyday = sum(_everyday(w.casefold(), lists.common) for w in line_words)
    return 2 * everyday >= len(line_words)


def _strip_possessive(value: str) -> str:
    for suffix in ("'s", "’s", "'", "’"):
        if value.endswith(suffix):
            return value[: -len(suffix)]
    return value


def _product_shape(words: list[str]) -> bool:
    """ "iPhone", "macOS": lower case, then a capital; "AMAZON.COM": a dot inside a word
    ("J.R" is initials)."""
    return any(
        (w[0].islower() and any(c.isupper() for c in w[1:]))
        or any(len(part) > 1 for part in w.split(".")[1:])
        for w in words
    )


def _et_al(text: str, start: int, words: list[str]) -> bool:
    return words == ["al"] and text[max(0, start - 4) : start].endswith(("et ", "et. "))


def _given_then_surname(words: list[str], lists: _Lists) -> bool:
    """ "Mac Miller": a given name followed by a surname is a person even where "Mac" is a
    product."""
    return (
        len(words) > 1
        and words[0].title() in lists.given
        and any(w.title() in lists.surnames for w in words[1:])
    )


def _follows_brand(text: str, start: int, lists: _Lists, companies: frozenset[str]) -> bool:
    """Right after a brand on the same line, with one space, or after a brand and a product
    line in capitals: "NVIDIA NeMo", "Intel Core", "NVIDIA DRIVE Thor"; not after a
    possessive ("Microsoft's Satya Nadella")."""
    for _ in range(2):
        before = _WORD_BEFORE.search(text, max(0, start - 40), start)
        if before is None:
            return False
        word = before.group(1).strip("®™")
        if word.casefold() in lists.brands or word.casefold() in companies:
            return True
        if not (len(word) > 1 and word.isalpha() and word.isupper()):
            return False
        start = before.start()
    return False


def _after_article(text: str, start: int) -> bool:
    before = _WORD_BEFORE.search(text, max(0, start - 40), start)
    return before is not None and before.group(1).casefold() in _ARTICLES


def _place_cue_before(text: str, start: int) -> bool:
    before = _WORD_BEFORE.search(text, max(0, start - 40), start)
    return before is not None and before.group(1).casefold() in _PLACE_CUES


def _said_to_be_a_place(text: str, start: int, end: int, lists: _Lists) -> bool:
    """ "in Chandler", "Washington, D.C.", "Chandler, Arizona", "Redmond, Washington"."""
    before = _WORD_BEFORE.search(text, max(0, start - 40), start)
    if before is not None:
        word = before.group(1)
        if word.lower() in _PLACE_CUES:
            return True
        place = word[:-1].casefold()
        if word.endswith(",") and (place in lists.places or place in _PLACE_KINDS):
            return True
    of = _OF_BEFORE.search(text, max(0, start - 40), start)
    if of is not None and of.group(1).casefold() in _PLACE_KINDS:
        return True
    after = _PLACE_AFTER.match(text, end)
    if after is not None:
        following = after.group(1).casefold()
        return (
            following in _US or following in lists.places or following in (lists.places_also_names)
        )
    return False

"""What the embedding model reads in place of a pseudonym: two name-like words that the token's
digest chooses ("<PERSON_0123456789abcdef>" -> "Kevin Morris"), never stored or shown.

A 16-hex-digit token is a dozen word pieces for a BERT tokenizer: in a short question half the
dense leg's input is hex noise, and a chunk's window fills with it. A stand-in is two word
pieces, reads as a name where a name was, and is the same wherever the token is (passage and
question), so the same person still meets in the dense leg. Embedding every pseudonym as its
type's word ("person") lost that identity (bench/RESULTS.md, issue 17). The stand-in comes from
the keyed digest alone: it tells nothing the token does not.

Two lists of plain English names, each name one word piece of the MiniLM (bert-base-uncased)
vocabulary, none an everyday word, a place or a famous one-name figure: 188 x 119 = 22,372
pairs. Changing a list or the choice changes every vector: bump STAND_IN_VERSION (it is in the
embedding fingerprint, so stores re-embed: ingest/reembed.py).
"""

from __future__ import annotations

from bisect import bisect_right

from rag.db.fulltext.base import PSEUDONYM

STAND_IN_VERSION = 1

GIVEN_NAMES = tuple(
    """
Aaron Adam Alan Albert Alice Allen Amanda Amy Andrea Andrew Angela Anna Anne Anthony Arthur
Ashley Barbara Benjamin Betty Beverly Billy Bobby Bonnie Brandon Brenda Brian Bruce Bryan
Carl Carlos Caroline Carolyn Catherine Charles Cheryl Chris Christina Christine Christopher
Cindy Claire Craig Cynthia Daniel Danielle Darren David Deborah Debra Dennis Derek Diana
Diane Donald Donna Doris Dorothy Douglas Dylan Edward Elaine Eleanor Elizabeth Ellen Emily
Emma Eric Erica Ethan Eugene Evelyn Frances Gary George Gerald Gloria Gordon Gregory Hannah
Harold Helen Henry Howard Ian Irene Jacob Janet Janice Jason Jean Jeffrey Jennifer Jeremy
Jesse Jessica Joan Joe John Jonathan Joseph Joshua Joyce Judith Judy Julia Julie Justin
Karen Katherine Kathleen Kathryn Keith Kelly Kenneth Kevin Kimberly Kyle Larry Laura Lauren
Lawrence Linda Lisa Lois Louis Lucy Luke Margaret Marie Marilyn Martha Mary Matthew Megan
Melissa Michael Michelle Nancy Natalie Nathan Nicholas Nicole Noah Olivia Pamela
Patricia Patrick Paul Philip Phyllis Rachel Ralph Randy Raymond Rebecca Richard Robert Roger
Ronald Roy Russell Ruth Ryan Samantha Samuel Sandra Sara Sarah Scott Sean Sharon Shirley
Sophia Stephanie Stephen Steven Susan Teresa Terry Thomas Timothy Tyler Victoria Vincent
Walter Wayne William Zachary
""".split()  # noqa: SIM905
)
SURNAMES = tuple(
    """
Abbott Adams Alexander Anderson Andrews Armstrong Atkinson Bailey Barker Barnes Bennett
Bradley Bryant Burke Campbell Carroll Carter Chapman Clark Clarke Cole Coleman Collins
Crawford Cunningham Davidson Davies Davis Dawson Dixon Duncan Dunn Edwards Elliott Ellis
Evans Ferguson Fleming Fletcher Fraser Freeman Gardner Gibson Graham Griffin Hamilton
Hansen Harper Harris Harrison Harvey Hawkins Hayes Henderson Holmes Hudson Hughes Jackson
James Jenkins Johnson Johnston Jones Kennedy Lambert Lawson Lewis Lloyd Marshall Matthews
Maxwell Mcdonald Mitchell Moore Morgan Morris Murphy Murray Nelson Newman Nichols Owen
Palmer Parker Patterson Payne Pearson Perry Phillips Powell Reid Reynolds Richards
Richardson Roberts Robertson Robinson Rogers Ross Saunders Shaw Simmons Simpson Spencer
Stevens Stewart Sullivan Taylor Thompson Thomson Tucker Wallace Walsh Watson Webb Wheeler
Wilkinson Williams Wilson
""".split()  # noqa: SIM905
)


def stand_in(entity_type: str, digest: str) -> str:
    """The words read for the token <ENTITY_TYPE_digest>: a PERSON is a given name and a
    surname; another type is its own words and a surname ("phone number Parker")."""
    number = int(digest, 16)
    surname = SURNAMES[number % len(SURNAMES)]
    if entity_type == "PERSON":
        return f"{GIVEN_NAMES[(number // len(SURNAMES)) % len(GIVEN_NAMES)]} {surname}"
    return f"{entity_type.replace('_', ' ').lower()} {surname}"


def readable(text: str) -> str:
    """`text` with each pseudonym replaced by its stand-in (what the embedder reads)."""
    return PSEUDONYM.sub(lambda m: stand_in(m.group(1), m.group(2)), text)


class StandInOffsets:
    """`readable(text)` with a way back: a character position in it -> the position in `text`
    (a position inside a stand-in -> its pseudonym's start, or end), so that the chunker can
    count a pseudonym as the tokens of its stand-in and still cut the original text."""

    def __init__(self, text: str) -> None:
        parts: list[str] = []
        self._spans: list[tuple[int, int, int, int]] = []  # readable start, end; text start, end
        cursor = length = 0
        for match in PSEUDONYM.finditer(text):
            parts.append(text[cursor : match.start()])
            length += match.start() - cursor
            words = stand_in(match.group(1), match.group(2))
            self._spans.append((length, length + len(words), match.start(), match.end()))
            parts.append(words)
            length += len(words)
            cursor = match.end()
        parts.append(text[cursor:])
        self.text = "".join(parts)
        self._starts = [span[0] for span in self._spans]

    def original(self, position: int, end: bool = False) -> int:
        """Where `position` of the readable text is in the original; `end`: the position ends a
        token (a token ending inside a stand-in ends where its pseudonym does)."""
        index = bisect_right(self._starts, position - 1 if end else position) - 1
        if index < 0:
            return position
        start, stop, old_start, old_stop = self._spans[index]
        if end and start < position <= stop:
            return old_stop
        if not end and start <= position < stop:
            return old_start
        return old_stop + position - stop

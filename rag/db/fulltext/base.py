"""What both full-text dialects share: the question's terms, the protocol, the query steps.

Queries are built from the user's words, never passed through: words are reduced to letters
and digits, stopwords dropped, and the rest OR-ed (or AND-ed) so the ranking function weighs
them. No FTS operator or quote from the question can reach the search syntax.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Protocol

from sqlalchemy import ColumnElement, Select, TextClause
from sqlalchemy.orm import Session

from rag.db.models import Document

PSEUDONYM = re.compile(r"<([A-Z][A-Z_]*)_([0-9a-f]{8,64})>")
_WORD = re.compile(r"[^\W_]+")

# Common English function words and question words: they carry no topic, and ORing them would
# let any chunk with "the" match. Kept small and general; the stemmers do the rest.
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves s t d ll m re ve""".split()  # noqa: SIM905
)


def query_terms(question: str) -> tuple[list[str], list[str]]:
    """(words, pseudonyms) of a question: lower-cased content words, then pseudonym tokens."""
    pseudonyms = list(dict.fromkeys(m.group(0) for m in PSEUDONYM.finditer(question)))
    rest = PSEUDONYM.sub(" ", question)
    words = [w.lower() for w in _WORD.findall(rest)]
    words = [w for w in dict.fromkeys(words) if w not in STOPWORDS]
    return words, pseudonyms


class FullTextSearch(Protocol):
    """Full-text search over chunks(text) in one SQL dialect. A higher score is a better match."""

    dialect: str

    def search(
        self,
        session: Session,
        question: str,
        limit: int,
        visible: ColumnElement[bool] | None = None,
    ) -> list[tuple[int, float]]:
        """(chunk id, score) best first, among chunks of indexed documents where `visible`
        (a condition on `documents`, the caller's access filter; None: every document) holds.
        The filter is inside the ranked query, so the limit counts visible chunks only."""
        ...

    def scores(self, session: Session, question: str, chunk_ids: list[int]) -> dict[int, float]:
        """The score `search` gives each of chunk_ids (the same ranking function, the same
        corpus statistics); a chunk matching no word of the question scores 0, the lowest."""
        ...

    def containing_all_terms(
        self, session: Session, question: str, chunk_ids: list[int]
    ) -> set[int]:
        """Those of chunk_ids whose text has every content word and pseudonym of the question."""
        ...

    def naming_every_pseudonym(
        self, session: Session, question: str, chunk_ids: list[int]
    ) -> set[int]:
        """Those of chunk_ids whose text has every pseudonym of the question (none if it has
        none): the passages about the people and values the question names."""
        ...


class DialectFullText(ABC):
    """The steps every dialect takes; a dialect supplies its query text and its SQL.

    Statements bind the query text as `:terms`; chunk ids are ints, written into the SQL.
    """

    dialect: str

    @abstractmethod
    def terms(self, question: str, *, every: bool) -> str | None:
        """The dialect's query text for the question's terms (all of them when `every`, else
        any); None when the question has none."""

    @abstractmethod
    def ranked(self, terms: str, limit: int, conditions: list[ColumnElement[bool]]) -> Select:
        """(chunk id, score) of the matching chunks where `conditions` hold, best first."""

    @abstractmethod
    def scores_sql(self, ids: str) -> TextClause:
        """(chunk id, score) of those of `ids` that match."""

    @abstractmethod
    def matching_sql(self, ids: str) -> TextClause:
        """The chunk ids among `ids` that match."""

    def search(
        self,
        session: Session,
        question: str,
        limit: int,
        visible: ColumnElement[bool] | None = None,
    ) -> list[tuple[int, float]]:
        terms = self.terms(question, every=False)
        if terms is None:
            return []
        conditions = [Document.status == "indexed"]
        if visible is not None:
            conditions.append(visible)
        query = self.ranked(terms, limit, conditions)
        return [(int(chunk_id), float(score)) for chunk_id, score in session.execute(query)]

    def scores(self, session: Session, question: str, chunk_ids: list[int]) -> dict[int, float]:
        scores = dict.fromkeys((int(i) for i in chunk_ids), 0.0)
        terms = self.terms(question, every=False) if scores else None
        if terms is None:
            return scores
        rows = session.execute(self.scores_sql(_id_list(scores)), {"terms": terms})
        scores.update({int(chunk_id): float(score) for chunk_id, score in rows})
        return scores

    def containing_all_terms(
        self, session: Session, question: str, chunk_ids: list[int]
    ) -> set[int]:
        terms = self.terms(question, every=True) if chunk_ids else None
        if terms is None:
            return set()
        rows = session.execute(self.matching_sql(_id_list(chunk_ids)), {"terms": terms})
        return {int(row[0]) for row in rows}

    def naming_every_pseudonym(
        self, session: Session, question: str, chunk_ids: list[int]
    ) -> set[int]:
        _, pseudonyms = query_terms(question)
        if not pseudonyms:
            return set()
        # The pseudonyms alone, as a question: its terms are those tokens and nothing else.
        return self.containing_all_terms(session, " ".join(pseudonyms), chunk_ids)


def _id_list(chunk_ids) -> str:
    return ",".join(str(int(i)) for i in chunk_ids)

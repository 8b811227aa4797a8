"""A question's values that the store holds only as pseudonyms are searched as those pseudonyms.

The anonymizer decides from context, so a short question and a long document can disagree: a
document's "Normandy" or "Priya" is recognized and stored as a token while the question's same
word is left as it is, and then neither search leg can connect them (the words differ). Each
run of capitalized words in the pseudonymized question is therefore pseudonymized as every
word-valued type would pseudonymize it; where the store holds that token, the question's words
are replaced by it. Only tokens are looked up (keyed digests, no raw value reaches SQL), and a
replaced value is added to the question's originals, so the asker still sees their own words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session, sessionmaker

from rag.db.fulltext import fulltext_search
from rag.db.fulltext.base import PSEUDONYM, STOPWORDS
from rag.privacy.anonymizer import AnonymizedText

# A capitalized word: a letter in upper case, then letters, digits, apostrophes or hyphens.
_CAPITALIZED = re.compile(r"[^\W\d_][\w'’-]*")
_POSSESSIVE = re.compile(r"['’]s?\Z")
# Names longer than this many words are rare; each extra length is one more lookup per run.
MAX_WORDS = 4

# (entity type, value) -> the token the anonymizer would write for it.
Pseudonymize = Callable[[str, str], str]
# tokens -> those of them the store holds.
StoredTokens = Callable[[list[str]], set[str]]


def capitalized_runs(text: str) -> list[list[tuple[int, int]]]:
    """Runs of adjacent capitalized words (as (start, end) spans), pseudonyms excluded; a run
    breaks at any word in lower case and at punctuation other than a space."""
    runs: list[list[tuple[int, int]]] = []
    current: list[tuple[int, int]] = []
    cursor = 0
    masked = PSEUDONYM.sub(lambda m: "#" * len(m.group(0)), text)
    for match in _CAPITALIZED.finditer(masked):
        word = match.group(0)
        joined = current and masked[cursor : match.start()].strip(" ") == ""
        if not joined and current:
            runs.append(current)
            current = []
        if word[0].isupper():
            start, end = match.start(), match.end()
            possessive = _POSSESSIVE.search(word)
            if possessive and possessive.start() > 0:
                end = start + possessive.start()
            current.append((start, end))
        elif current:
            runs.append(current)
            current = []
        cursor = match.end()
    if current:
        runs.append(current)
    return runs


def candidates(text: str) -> list[tuple[int, int]]:
    """Every span of 1 to MAX_WORDS adjacent capitalized words, longest first; a lone stopword
    ("What", "The") is left out, as no recognizer takes those for a name."""
    spans = []
    for run in capitalized_runs(text):
        for size in range(min(MAX_WORDS, len(run)), 0, -1):
            for first in range(len(run) - size + 1):
                start, end = run[first][0], run[first + size - 1][1]
                if size == 1 and text[start:end].casefold() in STOPWORDS:
                    continue
                spans.append((start, end))
    spans.sort(key=lambda span: span[0] - span[1])  # longest first, then leftmost
    return spans


def hide_stored_values(
    question: AnonymizedText,
    types: Iterable[str],
    pseudonymize: Pseudonymize,
    stored: StoredTokens,
) -> AnonymizedText:
    """`question` with each capitalized value whose token (of one of `types`) the store holds
    replaced by that token; longer values first, no two replacements overlapping."""
    types = list(types)
    spans = candidates(question.text)
    if not spans or not types:
        return question
    tokens = {
        (span, kind): pseudonymize(kind, question.text[span[0] : span[1]])
        for span in spans
        for kind in types
    }
    held = stored(sorted(set(tokens.values())))
    if not held:
        return question
    chosen: list[tuple[tuple[int, int], str]] = []  # (span, entity type)
    for span in spans:
        if any(span[0] < end and start < span[1] for (start, end), _ in chosen):
            continue
        kind = next((kind for kind in types if tokens[span, kind] in held), None)
        if kind is not None:
            chosen.append((span, kind))
    text, originals = question.text, dict(question.originals)
    counts = question.counts.copy()
    for (start, end), kind in sorted(chosen, reverse=True):
        token = tokens[(start, end), kind]
        originals.setdefault(token, text[start:end])
        counts[kind] += 1
        text = text[:start] + token + text[end:]
    return AnonymizedText(text, counts, originals)


def add_stored_parts(
    question: AnonymizedText,
    types: Iterable[str],
    pseudonymize: Pseudonymize,
    stored: StoredTokens,
) -> AnonymizedText:
    """`question` with each token of `types` that the store does not hold preceded by the tokens
    of the parts of its value that it does hold: the question's anonymizer took "Ralph earl" or
    "Emma Marry" for one name where the passage hides "Ralph" and "Emma", and "William
    Rankine's" where it hides the words of "William John Macquorn Rankine" (rag/privacy/
    name_parts.py). The question's own token stays: nothing it hid is shown again."""
    types = set(types)
    values = {
        token: value
        for token, value in question.originals.items()
        if (match := PSEUDONYM.fullmatch(token))
        and match.group(1) in types
        and token in question.text
    }
    if not values:
        return question
    parts = {
        token: [
            ((start, end), kind, pseudonymize(kind, value[start:end]))
            for start, end in candidates(value)
            for kind in sorted(types)
        ]
        for token, value in values.items()
    }
    asked = {*values, *(part for found in parts.values() for _, _, part in found)}
    held = stored(sorted(asked))
    text, originals, counts = question.text, dict(question.originals), question.counts.copy()
    for token, found in parts.items():
        if token in held:
            continue
        chosen: list[tuple[tuple[int, int], str]] = []  # (span in the value, token)
        for (start, end), kind, part in found:  # longest first
            if part not in held or any(s < end and start < e for (s, e), _ in chosen):
                continue
            chosen.append(((start, end), part))
            originals.setdefault(part, values[token][start:end])
            counts[kind] += 1
        if chosen:
            in_order = [part for _, part in sorted(chosen)]
            text = text.replace(token, " ".join([*in_order, token]))
    return AnonymizedText(text, counts, originals)


def tokens_in_store(
    session_factory: sessionmaker[Session], visible: ColumnElement[bool] | None
) -> StoredTokens:
    """Looks tokens up in the full-text index, among the documents `visible` selects."""

    def stored(tokens: list[str]) -> set[str]:
        with session_factory() as session:
            return {token for token in tokens if fulltext_search(session, token, 1, visible)}

    return stored


def typed_values_shown(
    question: AnonymizedText,
    types: Iterable[str],
    kept: set[str] | None = None,
    typed_and_kept: set[str] | None = None,
) -> str:
    """The pseudonymized question with each of its tokens of `types` written back as the
    asker's words: for the dense leg's embedding only (computed in-process, never sent to SQL,
    logged or shown). The passages' vectors were made from pseudonymized text, so a plain word
    meets only passages that say it plainly: a word the question's anonymizer hid but the
    documents left ("Hastings", "Norman" after "the"), which a token cannot meet in either leg.
    A token the documents hold is best kept too: its word pieces are what the dense leg
    matches the passages that hid the value by. Tokens in `kept` stay as they are; those in
    `typed_and_kept` are written as the words followed by the token (a passage may say the
    word or hide it)."""
    types, kept, both = set(types), kept or set(), typed_and_kept or set()

    def shown(match: re.Match) -> str:
        token = match.group(0)
        if match.group(1) not in types or token in kept or token not in question.originals:
            return token
        typed = question.originals[token]
        return f"{typed} {token}" if token in both else typed

    return PSEUDONYM.sub(shown, question.text)


@dataclass(frozen=True)
class TypedQuestion:
    """An anonymized question's hidden words as the asker typed them, for ranking in-process
    only: never sent to SQL, logged or shown (RagService.typed_question)."""

    # What the dense leg embeds instead of the pseudonymized question (typed_values_shown).
    embedded: str
    # The typed words whose tokens no document of the caller holds. The full-text leg, searched
    # with the token, cannot find a passage that says such a word plainly ("Merthyr Tydfil",
    # hidden only in the question): the retriever matches them on its candidates' text.
    unheld: tuple[str, ...] = ()
    # The other typed words: some passage hid them (the full-text leg meets it by the token),
    # another may say them plainly ("Norman" after "the").
    held: tuple[str, ...] = ()


def share_said(text: str, words: Sequence[str]) -> float:
    """The share of `words` that `text` says, each as whole words, in any case."""
    if not words:
        return 0.0
    folded = text.casefold()
    said = sum(
        1 for word in words if re.search(rf"(?<!\w){re.escape(word.casefold())}(?!\w)", folded)
    )
    return said / len(words)


def typed_question(
    question: AnonymizedText, types: Iterable[str], held: set[str], mode: str
) -> TypedQuestion | None:
    """The question's hidden words of `types` as typed, given the tokens the caller's documents
    `held` and `anonymize.typed_words_embedded` (`mode`, not "off"); None: nothing to add."""
    types = set(types)
    tokens = {
        match.group(0)
        for match in PSEUDONYM.finditer(question.text)
        if match.group(1) in types and match.group(0) in question.originals
    }
    if not tokens:  # nothing hidden that was typed as words: the question is searched as is
        return None
    if mode == "typed_and_held":
        embedded = typed_values_shown(question, types, typed_and_kept=held)
    elif mode == "unheld":
        embedded = typed_values_shown(question, types, kept=held)
    else:
        embedded = typed_values_shown(question, types)
    return TypedQuestion(
        embedded=embedded,
        unheld=tuple(sorted({question.originals[token] for token in tokens - held})),
        held=tuple(sorted({question.originals[token] for token in tokens & held})),
    )

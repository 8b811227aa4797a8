"""Personal data removal: Presidio finds entities, a policy per type replaces them.

By default each value becomes a typed token such as <PERSON_3fa9c2d1e07b5a64>: an HMAC-SHA256
of the normalized value under a secret key kept on the premises (operators/pseudonymize.py).
The same value gives the same token in every document and in questions, so search still
connects a person across documents. `anonymize.operators` picks mask, redact or keep per type.
"""

from __future__ import annotations

import copy
import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rag.config import AnonymizeSettings
from rag.privacy.operators import Operator, PseudonymizeOperator, RedactOperator, build_operators
from rag.privacy.operators.base import DIGITS_TYPES
from rag.privacy.operators.pseudonymize import normalize
from rag.privacy.recognizers.business_terms import is_business_term, page_companies
from rag.privacy.recognizers.person_spans import (
    expand,
    looks_common,
    lowercase_words,
    only_everyday_words,
)
from rag.privacy.recognizers.phone_numbers import too_short_for_a_phone
from rag.privacy.recognizers.timed_regex import PatternTimeout
from rag.privacy.recognizers.yaml_recognizers import DENY_LIST_PREFIX

log = logging.getLogger(__name__)

# spaCy's cost grows with text length; analyze long pages in overlapping windows.
WINDOW_CHARS = 20_000
WINDOW_OVERLAP = 200
# A window a recognizer pattern ran out of time on: replaced whole, never stored raw.
UNSCANNED = "UNSCANNED_TEXT"
__all__ = ["AnonymizedText", "Anonymizer", "Span", "normalize"]


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    entity_type: str
    score: float


@dataclass
class AnonymizedText:
    text: str
    counts: Counter = field(default_factory=Counter)
    # token -> original value; kept in memory only, used to restore the asker's own values.
    originals: dict[str, str] = field(default_factory=dict)


class Anonymizer:
    """Finds entities (Presidio + our recognizers), then applies each type's operator.

    `analyzer` and `operators` may be passed in (tests); by default they are built from the
    settings. The spaCy model is loaded once per process and shared by every Anonymizer.
    """

    def __init__(
        self,
        settings: AnonymizeSettings,
        secret: bytes,
        *,
        analyzer=None,
        operators: dict[str, Operator] | None = None,
        window_chars: int = WINDOW_CHARS,
        window_overlap: int = WINDOW_OVERLAP,
    ) -> None:
        self.settings = settings
        self.secret = secret  # file worker processes build their own Anonymizer from it
        self.window_chars, self.window_overlap = window_chars, window_overlap
        self._pseudonymizer = PseudonymizeOperator(secret)
        names = [settings.default_operator, *settings.operators.values()]
        self.operators = operators or build_operators(names, self._pseudonymizer)
        if analyzer is None and settings.enabled:
            analyzer = build_analyzer(settings)
        self._analyzer = analyzer
        self.entities = sorted(
            {*settings.entities, *(r.entity_type for r in settings.recognizers)}
            | {t for t, terms in settings.deny_list.items() if terms}
        )
        allow = sorted({t.strip() for t in settings.allow_list if t.strip()}, key=len)
        self._allow = (
            re.compile("|".join(rf"(?<!\w){re.escape(t)}(?!\w)" for t in reversed(allow)), re.I)
            if allow
            else None
        )

    @property
    def pseudonym_chars(self) -> int:
        return self._pseudonymizer.digest_chars

    @property
    def key_id(self) -> str:
        return self._pseudonymizer.key_id

    def with_pseudonym_chars(self, chars: int) -> Anonymizer:
        """This anonymizer (same analyzer, same key) making tokens of `chars` hex digits: a
        store built with shorter tokens is asked in its own length until it is re-processed."""
        if chars == self.pseudonym_chars:
            return self
        other = copy.copy(self)
        other._pseudonymizer = self._pseudonymizer.with_digest_chars(chars)
        other.operators = {
            name: other._pseudonymizer if op is self._pseudonymizer else op
            for name, op in self.operators.items()
        }
        return other

    @property
    def word_types(self) -> list[str]:
        """The types whose values are words and are replaced by pseudonyms (PERSON, a custom
        deny-list type): those a question's words may be looked up as (rag/stored_values.py)."""
        return [
            t
            for t in self.entities
            if t not in NOT_WORDS and self.operator_for(t) is self._pseudonymizer
        ]

    def pseudonymize(self, entity_type: str, value: str) -> str:
        """The token this anonymizer writes for `value` found as `entity_type`."""
        return self._pseudonymizer.operate(entity_type, value)

    def operator_for(self, entity_type: str) -> Operator:
        if entity_type == UNSCANNED:
            return _REDACT  # one token for the whole window; nothing to restore
        name = self.settings.operators.get(entity_type, self.settings.default_operator)
        return self.operators[name]

    def anonymize(self, text: str) -> AnonymizedText:
        return self.anonymize_many([text])[0]

    def anonymize_many(self, texts: Sequence[str]) -> list[AnonymizedText]:
        """Each text anonymized; spaCy reads them in batches (a document's pages, headings
        and title in one call: cheaper than one call each)."""
        if self._analyzer is None:
            return [AnonymizedText(text) for text in texts]
        found = self.find_many(texts)
        return [self._replace(text, spans) for text, spans in zip(texts, found, strict=True)]

    def _replace(self, text: str, spans: list[Span]) -> AnonymizedText:
        result = AnonymizedText(text="")
        pieces, cursor = [], 0
        for span in spans:
            value = text[span.start : span.end]
            operator = self.operator_for(span.entity_type)
            replacement = operator.operate(span.entity_type, value)
            pieces.append(text[cursor : span.start])
            pieces.append(replacement)
            result.counts[span.entity_type] += 1
            if operator.restorable:
                result.originals[replacement] = value
            cursor = span.end
        pieces.append(text[cursor:])
        result.text = "".join(pieces)
        return result

    def find(self, text: str) -> list[Span]:
        """Entities in `text`, non-overlapping, in order; values are never logged."""
        return self.find_many([text])[0]

    def find_many(self, texts: Sequence[str]) -> list[list[Span]]:
        """`find` of each text; the windows of all of them go through spaCy in batches."""
        if self._analyzer is None:
            return [[] for _ in texts]
        windows = [
            (index, offset, window)
            for index, text in enumerate(texts)
            if text.strip()
            for offset, window in _windows(text, self.window_chars, self.window_overlap)
        ]
        engine = self._analyzer.nlp_engine
        if hasattr(engine, "process_many"):
            artifacts = engine.process_many((w for _, _, w in windows), "en")
        else:  # an engine passed in (tests): one call per window
            artifacts = (engine.process_text(w, "en") for _, _, w in windows)
        found: list[list[Span]] = [[] for _ in texts]
        context: dict[int, tuple[set[str], frozenset[str] | None]] = {}
        for (index, offset, window), nlp_artifacts in zip(windows, artifacts, strict=True):
            if index not in context:  # of the whole text, for each of its windows
                text = texts[index]
                context[index] = (lowercase_words(text), self._page_companies(text))
            found[index] += self._find_in_window(window, offset, nlp_artifacts, *context[index])
        return [self._final(text, spans) for text, spans in zip(texts, found, strict=True)]

    def _find_in_window(
        self, window: str, offset: int, artifacts, lowercase: set[str], companies
    ) -> list[Span]:
        lowest = min([self.settings.min_score, *self.settings.min_scores.values()])
        try:
            results = self._analyzer.analyze(
                window,
                language="en",
                entities=self.entities,
                score_threshold=lowest,
                nlp_artifacts=artifacts,
            )
        except PatternTimeout as exc:
            # Never the text: only which pattern and how long the window was.
            log.warning("%s; a window of %d characters is replaced whole", exc, len(window))
            return [Span(offset, offset + len(window), UNSCANNED, 1.0)]
        found = []
        for r in results:
            if r.score < self.settings.min_scores.get(r.entity_type, self.settings.min_score):
                continue
            start, end = r.start, r.end
            if r.entity_type == "PHONE_NUMBER" and too_short_for_a_phone(window[start:end]):
                continue  # Presidio's recognizer takes "In 1685" for a number
            if r.entity_type == "PERSON" and not _denied(r):
                start, end = expand(start, end, artifacts.tokens, lowercase)
                value = window[start:end]
                if self.settings.person_filter and looks_common(value, lowercase):
                    continue
                if self.settings.common_word_filter and only_everyday_words(value):
                    continue
                if _every_word_has_a_digit(value):
                    continue  # "fec282e1d82e": spaCy's guess, never a name
                if companies is not None and is_business_term(window, start, end, companies):
                    continue  # "Unaudited", "Mac", "Japanese Yen" (business_terms.py)
            found.append(Span(start + offset, end + offset, r.entity_type, r.score))
        return found

    def _final(self, text: str, found: list[Span]) -> list[Span]:
        """The allow list applied, overlaps resolved."""
        if self._allow is not None:
            allowed = [(m.start(), m.end()) for m in self._allow.finditer(text)]
            found = [s for s in found if all(s.end <= a or s.start >= b for a, b in allowed)]
        return _resolve_overlaps(found)

    def _page_companies(self, text: str) -> frozenset[str] | None:
        """The words `text` uses as company names, for the business-term filter; None when
        the filter is off. Past its time limit: none (more spans stay PERSON, never fewer)."""
        if not self.settings.business_term_filter:
            return None
        try:
            return page_companies(text)
        except PatternTimeout:
            return frozenset()


# Types whose values are never a run of capitalized words.
NOT_WORDS = DIGITS_TYPES | {"EMAIL_ADDRESS", "IP_ADDRESS", "URL"}


def _denied(result) -> bool:
    """Whether the admin's deny list found it: always an entity, never filtered out."""
    name = (result.recognition_metadata or {}).get("recognizer_name", "")
    return name.startswith(DENY_LIST_PREFIX)


def _every_word_has_a_digit(value: str) -> bool:
    """Ids, hashes and codes: no word of a name carries a digit ("Priya Raman 2" keeps its
    names, so it stays a PERSON)."""
    words = value.split()
    return bool(words) and all(any(c.isdigit() for c in word) for word in words)


def _windows(text: str, size: int = WINDOW_CHARS, overlap: int = WINDOW_OVERLAP):
    """Overlapping windows of at most `size` characters, cut at whitespace, so spaCy's cost
    and memory stay bounded and an entity across a cut is whole in the next window."""
    if len(text) <= size:
        yield 0, text
        return
    start = 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            # Cut at whitespace so a word is never split in two.
            space = text.rfind(" ", start + size // 2, end)
            end = space if space > 0 else end
        yield start, text[start:end]
        if end >= len(text):
            return
        start = end - overlap


def _resolve_overlaps(found: list[Span]) -> list[Span]:
    """Keep the best of overlapping spans: one that contains another wins (a name inside an
    address or an e-mail goes with it, so no part of the longer value is left in the text);
    otherwise the higher score, then the longer."""
    found = [
        s
        for s in found
        if not any(
            o.start <= s.start and s.end <= o.end and (o.end - o.start) > (s.end - s.start)
            for o in found
        )
    ]
    ranked = sorted(found, key=lambda f: (-f.score, -(f.end - f.start), f.start))
    kept: list[Span] = []
    for span in ranked:
        if all(span.end <= k.start or span.start >= k.end for k in kept):
            kept.append(span)
    return sorted(kept, key=lambda s: s.start)


_REDACT = RedactOperator()


@lru_cache(maxsize=2)
def _nlp_engine(spacy_model: str):
    from rag.privacy.nlp_engine import DeferringSpacyNlpEngine

    _require_spacy_model(spacy_model)
    # Presidio warns at INFO/WARNING about every recognizer of other languages it skips.
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    engine = DeferringSpacyNlpEngine(models=[{"lang_code": "en", "model_name": spacy_model}])
    engine.load()
    return engine


def build_analyzer(settings: AnonymizeSettings):
    """Presidio's English recognizers (e-mail swapped for ours), ours for phone and card
    numbers, street addresses and names, and the recognizers and deny lists declared in YAML;
    every pattern under the time limit (timed_regex.py)."""
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.predefined_recognizers import EmailRecognizer, PhoneRecognizer

    from rag.privacy.recognizers.card_numbers import CardNumberRecognizer
    from rag.privacy.recognizers.offline_email import OfflineEmailRecognizer
    from rag.privacy.recognizers.person_cues import PersonCueRecognizer
    from rag.privacy.recognizers.person_names import PersonNameRecognizer
    from rag.privacy.recognizers.phone_numbers import PhoneNumberShapeRecognizer
    from rag.privacy.recognizers.presidio_phone import GatedPhoneRecognizer
    from rag.privacy.recognizers.timed_regex import guard, set_limit
    from rag.privacy.recognizers.world_address import WorldAddressRecognizer
    from rag.privacy.recognizers.yaml_recognizers import yaml_recognizers

    nlp_engine = _nlp_engine(settings.spacy_model)
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=nlp_engine)
    registry.remove_recognizer(EmailRecognizer().name)
    registry.add_recognizer(OfflineEmailRecognizer())
    # Presidio's phone numbers, skipped on text that holds no run of figures long enough.
    for phones in [r for r in registry.recognizers if type(r) is PhoneRecognizer]:
        registry.recognizers.remove(phones)
        registry.add_recognizer(GatedPhoneRecognizer.replacing(phones))
    # Beside Presidio's: phone numbers of any country, cards of 12-19 digits (Luhn).
    registry.add_recognizer(PhoneNumberShapeRecognizer())
    registry.add_recognizer(CardNumberRecognizer())
    # US streets (street_address.py) and the rest of the world, each completed by its
    # unit, postcode and place lines.
    registry.add_recognizer(WorldAddressRecognizer())
    if settings.address_cues:
        from rag.privacy.recognizers.address_cues import AddressCueRecognizer

        registry.add_recognizer(AddressCueRecognizer())  # "lives on Joaquin Suarez 2906"
    if settings.person_names:
        registry.add_recognizer(PersonNameRecognizer())
        registry.add_recognizer(PersonCueRecognizer())  # "my name is ...", "Faina D. Yefremova"
    if settings.person_context:
        from rag.privacy.recognizers.person_lists import PersonListRecognizer
        from rag.privacy.recognizers.person_mentions import PersonMentionRecognizer
        from rag.privacy.recognizers.person_predicates import PersonPredicateRecognizer
        from rag.privacy.recognizers.person_speakers import PersonSpeakerRecognizer

        registry.add_recognizer(PersonMentionRecognizer())  # "... Maciej Borkowski ... Borkowski"
        registry.add_recognizer(PersonListRecognizer())  # "Usamov and Bowers were"
        registry.add_recognizer(PersonSpeakerRecognizer())  # "Destiny: Remember me?"
        registry.add_recognizer(PersonPredicateRecognizer())  # "Shovda ... depend on him"
    for recognizer in yaml_recognizers(settings):
        registry.add_recognizer(recognizer)
    set_limit(settings.pattern_timeout_s)
    guard(registry.recognizers)
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=["en"])


def _require_spacy_model(name: str) -> None:
    """Presidio downloads a missing spaCy model; we refuse to start instead."""
    import spacy.util

    from rag.model_paths import ModelNotFoundError

    if not (spacy.util.is_package(name) or Path(name).is_dir()):
        pip_name = name.replace("_", "-")
        raise ModelNotFoundError(
            f"spaCy model '{name}' is neither an installed package nor a folder "
            f"(pip install {pip_name})"
        )

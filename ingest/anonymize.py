"""Personal data removal: Presidio finds entities, keyed pseudonyms replace them.

Each value becomes a typed token such as <PERSON_3fa9c2d1>: an HMAC-SHA256 of the normalized
value under a secret key kept on the premises. The same value gives the same token in every
document and in questions, so search still connects a person across documents.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rag.config import AnonymizeSettings

log = logging.getLogger(__name__)

# spaCy's cost grows with text length; analyze long pages in overlapping windows.
WINDOW_CHARS = 20_000
WINDOW_OVERLAP = 200
TOKEN_PATTERN = re.compile(r"<([A-Z_]+)_([0-9a-f]{8})>")
_DIGITS_ONLY_TYPES = {"PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IBAN_CODE", "US_BANK_NUMBER"}


def load_or_create_secret(configured: str | None, data_dir: Path) -> bytes:
    """The pseudonym key: from the settings, else data_dir/secret.key, made on first start."""
    if configured:
        return configured.encode()
    path = data_dir / "secret.key"
    if path.is_file():
        return path.read_text().strip().encode()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    log.info("generated a new pseudonym key in %s", path)
    return key.encode()


def normalize(entity_type: str, value: str) -> str:
    if entity_type in _DIGITS_ONLY_TYPES:
        return re.sub(r"[^0-9A-Za-z+]", "", value).upper()
    return " ".join(value.split()).casefold()


@dataclass
class AnonymizedText:
    text: str
    counts: Counter = field(default_factory=Counter)
    # token -> original value; kept in memory only, used to restore the asker's own values.
    originals: dict[str, str] = field(default_factory=dict)


class Anonymizer:
    def __init__(self, settings: AnonymizeSettings, secret: bytes) -> None:
        self.settings = settings
        self._secret = secret
        self._analyzer = _build_analyzer(settings.spacy_model) if settings.enabled else None

    def pseudonym(self, entity_type: str, value: str) -> str:
        digest = hmac.new(
            self._secret, f"{entity_type}:{normalize(entity_type, value)}".encode(), hashlib.sha256
        ).hexdigest()
        return f"<{entity_type}_{digest[:8]}>"

    def anonymize(self, text: str) -> AnonymizedText:
        if self._analyzer is None or not text.strip():
            return AnonymizedText(text)
        spans = self._find(text)
        result = AnonymizedText(text="")
        pieces, cursor = [], 0
        for start, end, entity_type in spans:
            value = text[start:end]
            token = self.pseudonym(entity_type, value)
            pieces.append(text[cursor:start])
            pieces.append(token)
            result.counts[entity_type] += 1
            result.originals[token] = value
            cursor = end
        pieces.append(text[cursor:])
        result.text = "".join(pieces)
        return result

    def _find(self, text: str) -> list[tuple[int, int, str]]:
        found = []
        for offset, window in _windows(text):
            for r in self._analyzer.analyze(
                window,
                language="en",
                entities=self.settings.entities,
                score_threshold=self.settings.min_score,
            ):
                found.append((r.start + offset, r.end + offset, r.entity_type, r.score))
        return _resolve_overlaps(found)


def _windows(text: str):
    if len(text) <= WINDOW_CHARS:
        yield 0, text
        return
    start = 0
    while start < len(text):
        end = min(len(text), start + WINDOW_CHARS)
        if end < len(text):
            # Cut at whitespace so a word is never split in two.
            space = text.rfind(" ", start + WINDOW_CHARS // 2, end)
            end = space if space > 0 else end
        yield start, text[start:end]
        if end >= len(text):
            return
        start = end - WINDOW_OVERLAP


def _resolve_overlaps(found) -> list[tuple[int, int, str]]:
    """Keep the best of overlapping spans: higher score, then longer."""
    ranked = sorted(found, key=lambda f: (-f[3], -(f[1] - f[0]), f[0]))
    kept: list[tuple[int, int, str]] = []
    for start, end, entity_type, _ in ranked:
        if all(end <= k_start or start >= k_end for k_start, k_end, _ in kept):
            kept.append((start, end, entity_type))
    return sorted(kept)


def _build_analyzer(spacy_model: str):
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_analyzer.predefined_recognizers import EmailRecognizer

    from ingest.recognizers.offline_email import OfflineEmailRecognizer

    _require_spacy_model(spacy_model)
    # Presidio warns at INFO/WARNING about every recognizer of other languages it skips.
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    nlp_engine = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": spacy_model}],
        }
    ).create_engine()
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=nlp_engine)
    registry.remove_recognizer(EmailRecognizer().name)
    registry.add_recognizer(OfflineEmailRecognizer())
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

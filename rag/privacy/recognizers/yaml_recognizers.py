"""Recognizers declared in YAML (`anonymize.recognizers`, `anonymize.deny_list`), no code."""

from __future__ import annotations

import regex
from presidio_analyzer import Pattern, PatternRecognizer

from rag.config import AnonymizeSettings, RecognizerSettings
from rag.privacy.recognizers.pattern_safety import check


def recognizer_from_settings(spec: RecognizerSettings) -> PatternRecognizer:
    """Refuses (UnsafePatternError) a pattern that could backtrack catastrophically."""
    for i, p in enumerate(spec.patterns):
        where = f"anonymize.recognizers '{spec.name}', pattern {p.name or i + 1}"
        # Presidio's flags for pattern recognizers: any case, `.` matches newlines.
        check(p.regex, regex.I | regex.M | regex.S, where=where)
    patterns = [
        Pattern(p.name or f"{spec.name}_{i}", p.regex, p.score) for i, p in enumerate(spec.patterns)
    ]
    return PatternRecognizer(
        supported_entity=spec.entity_type,
        name=spec.name,
        patterns=patterns,
        context=spec.context or None,
    )


# The deny lists' recognizers are named by this prefix and their type: what they find is
# always an entity (the anonymizer's filters leave it alone).
DENY_LIST_PREFIX = "deny_list_"


def deny_list_recognizers(deny_list: dict[str, list[str]]) -> list[PatternRecognizer]:
    """One recognizer per type; Presidio matches the terms as whole words, any case, score 1."""
    return [
        PatternRecognizer(
            supported_entity=entity_type, name=f"{DENY_LIST_PREFIX}{entity_type}", deny_list=terms
        )
        for entity_type, terms in deny_list.items()
        if terms
    ]


def yaml_recognizers(settings: AnonymizeSettings) -> list[PatternRecognizer]:
    return [recognizer_from_settings(spec) for spec in settings.recognizers] + (
        deny_list_recognizers(settings.deny_list)
    )

"""Every regex the anonymizer runs, for the static ReDoS check (recognizers/pattern_safety.py):
the module patterns of our recognizers, and the patterns of every Presidio PatternRecognizer
that the configured analyzer runs (Presidio's predefined ones we enable, YAML recognizers, deny
lists)."""

from __future__ import annotations

import importlib
import pkgutil

import regex

import rag.privacy.recognizers
from rag.privacy.recognizers.timed_regex import TimedPattern


def module_patterns() -> list[tuple[str, str, int]]:
    found = []
    for info in pkgutil.iter_modules(rag.privacy.recognizers.__path__):
        module = importlib.import_module(f"rag.privacy.recognizers.{info.name}")
        for name, value in vars(module).items():
            items = value if isinstance(value, list | tuple) else [value]
            for i, item in enumerate(items):
                item = item[0] if isinstance(item, tuple) and item else item
                if isinstance(item, TimedPattern | regex.Pattern):
                    label = f"{info.name}.{name}" + (f"[{i}]" if items is value else "")
                    found.append((label, item.pattern, item.flags))
    return found


def analyzer_patterns(settings) -> list[tuple[str, str, int]]:
    from presidio_analyzer import PatternRecognizer

    from rag.privacy.anonymizer import Anonymizer

    anonymizer = Anonymizer(settings, secret=b"pattern-check")
    recognizers = anonymizer._analyzer.registry.get_recognizers("en", anonymizer.entities)
    return [
        (f"{r.name}/{p.name}", p.regex, r.global_regex_flags)
        for r in recognizers
        if isinstance(r, PatternRecognizer)
        for p in r.patterns
    ]


def shipped_patterns(settings) -> list[tuple[str, str, int]]:
    return module_patterns() + analyzer_patterns(settings)

"""No recognizer pattern may backtrack catastrophically (ReDoS): a static check of every pattern
we ship or load from YAML, adversarial texts through every recognizer, and a pattern that runs
out of time leaves no raw text behind."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
import regex
from presidio_analyzer import Pattern, PatternRecognizer

from rag.config import REPO_ROOT, AnonymizeSettings, RecognizerSettings, Settings
from rag.privacy.anonymizer import UNSCANNED, Anonymizer
from rag.privacy.recognizers.pattern_safety import UnsafePatternError, problems
from rag.privacy.recognizers.timed_regex import guard
from rag.privacy.shipped_patterns import shipped_patterns

CONFIGS = sorted((REPO_ROOT / "configs").glob("*.yaml"))


@pytest.mark.parametrize(
    "pattern",
    [
        r"(\w+)*$",
        r"(?:\w+\s?)+!",
        r"(?:\d{1,3})+x",
        r"\w+\w+@",
        r"\d+\s*\d+x",
        r"[\w-]*-+!",
        r"\p{Lu}[\p{L}.-]*(?:[ -]+\p{Lu}[\p{L}.-]*)*!",
    ],
)
def test_the_check_refuses_nested_and_overlapping_quantifiers(pattern):
    assert problems(pattern)


@pytest.mark.parametrize(
    "pattern",
    [
        r"\bEMP-\d{6}\b",
        r"\w+(?:-+\w+)*(?:\.\w+(?:-+\w+)*)+",
        r"(?:[ -]?[A-Z0-9]{4}){2,6}",  # bounded: a constant cost per start
        r"\p{Lu}\p{Ll}+(?:['’-]\p{Lu}?\p{Ll}+)*",
        r"(?:[ \t]*\n){1,2}",
    ],
)
def test_the_check_accepts_patterns_with_one_way_to_match(pattern):
    assert problems(pattern) == []


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.name)
def test_every_pattern_we_ship_or_load_passes_the_check(config, monkeypatch):
    monkeypatch.setenv("RAG_CONFIG", str(config))
    monkeypatch.delenv("RAG_EMBEDDING__BACKEND", raising=False)  # as shipped (conftest pins onnx)
    patterns = shipped_patterns(Settings().anonymize)
    assert len(patterns) > 20  # ours, Presidio's enabled ones, the YAML ones
    unsafe = {name: problems(p, flags) for name, p, flags in patterns if problems(p, flags)}
    assert unsafe == {}


def test_a_yaml_pattern_that_fails_the_check_is_refused_at_startup_naming_it():
    settings = AnonymizeSettings(
        recognizers=[
            RecognizerSettings(
                name="project_code",
                entity_type="PROJECT",
                patterns=[{"regex": r"\b(?:[A-Z]+-?)+\d\b", "score": 0.6}],
            )
        ]
    )
    with pytest.raises(UnsafePatternError, match="project_code"):
        Anonymizer(settings, secret=b"k")


# -- adversarial texts through every recognizer ------------------------------------------------

_UNITS = ["A-", "Ab-", "a.", "A.", "A ", "a-a.", "1 ", "1-", "1.", "(1) ", "+1 ", ", A", "\n A"]
_LONG_TOKENS = ["a" * 2500, "A" + "a" * 2500, "1" * 2500, "-" * 2500, " " * 2500, ".\n" * 1250]
_PREFIXES = ["", "Who lives at 12 Main Street, ", "Via Roma 5\n", "Write to jane@"]


def _adversarial_texts() -> list[str]:
    texts = [p + u * (2100 // len(u)) + "!" for p in _PREFIXES for u in _UNITS]
    return texts + [p + t + "!" for p in _PREFIXES[:2] for t in _LONG_TOKENS]


def _run_all(anonymizer: Anonymizer, texts: list[str]) -> None:
    for text in texts:
        anonymizer.find(text)


def test_adversarial_texts_of_2000_characters_finish(tmp_path: Path):
    """A catastrophic pattern takes hours on these; a linear one a fraction of a second. The
    guard is minutes, so it never flakes on a slow machine. The pattern time limit is lifted
    here: this tests the patterns themselves, not the limit."""
    settings = Settings().anonymize.model_copy(update={"pattern_timeout_s": 3600.0})
    anonymizer = Anonymizer(settings, secret=b"k")
    texts = _adversarial_texts()
    assert all(len(t) >= 2000 for t in texts)
    anonymizer.find("warm up: Jane Doe, 12 Main Street")
    child = multiprocessing.get_context("fork").Process(target=_run_all, args=(anonymizer, texts))
    child.start()
    child.join(timeout=300)
    if child.is_alive():
        child.kill()
        child.join()
        pytest.fail("a recognizer ran for minutes on a 2,000-character text: ReDoS")
    assert child.exitcode == 0


# -- a pattern that runs out of time ------------------------------------------------------------


def test_a_pattern_that_runs_out_of_time_leaves_no_raw_text():
    anonymizer = Anonymizer(Settings().anonymize, secret=b"k")
    catastrophic = PatternRecognizer(
        supported_entity="EMPLOYEE_ID",
        name="catastrophic",
        patterns=[Pattern("catastrophic", r"(?:a|aa)+$", 0.9)],
    )
    guard([catastrophic], seconds=0.2)
    anonymizer._analyzer.registry.add_recognizer(catastrophic)
    secret = "a" * 60 + "!"
    result = anonymizer.anonymize(f"Jane Doe wrote {secret}")
    assert secret not in result.text and "Jane" not in result.text
    assert result.counts[UNSCANNED] == 1


def test_timed_patterns_raise_rather_than_skip():
    from rag.privacy.recognizers.timed_regex import PatternTimeout, TimedPattern

    pattern = TimedPattern(regex.compile(r"(?:a|aa)+$"), "catastrophic", seconds=0.2)
    with pytest.raises(PatternTimeout, match="catastrophic"):
        list(pattern.finditer("a" * 60 + "!"))

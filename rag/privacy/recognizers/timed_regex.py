"""Every recognizer pattern runs under a time limit, and running out is an error, never a skip.

The static check (pattern_safety.py) keeps catastrophic patterns out; this is the second line.
Presidio's own PatternRecognizer catches `TimeoutError` and skips the pattern, which would leave
the text raw, so a timeout here raises `PatternTimeout` instead, which it does not catch; the
anonymizer then treats the text it was reading as personal data (rag/privacy/anonymizer.py).
"""

from __future__ import annotations

import regex

DEFAULT_LIMIT_S = 5.0
_limit_s = DEFAULT_LIMIT_S


class PatternTimeout(RuntimeError):  # not a TimeoutError: Presidio swallows those
    def __init__(self, name: str, seconds: float) -> None:
        super().__init__(f"recognizer pattern '{name}' ran out of time ({seconds:g} s)")
        self.pattern_name = name


def set_limit(seconds: float) -> None:
    """The limit of patterns made without one of their own (anonymize.pattern_timeout_s)."""
    global _limit_s
    _limit_s = seconds


class TimedPattern:
    """A compiled pattern whose every scan has a time limit; results are read in full inside
    the limit (a lazy iterator would escape it)."""

    def __init__(self, compiled: regex.Pattern, name: str, seconds: float | None = None) -> None:
        self.compiled, self.name, self._seconds = compiled, name, seconds
        self.pattern, self.flags = compiled.pattern, compiled.flags

    @property
    def seconds(self) -> float:
        return self._seconds if self._seconds is not None else _limit_s

    def _run(self, method: str, *args):
        try:
            found = getattr(self.compiled, method)(*args, timeout=self.seconds)
            return list(found) if method == "finditer" else found
        except TimeoutError:
            raise PatternTimeout(self.name, self.seconds) from None

    def finditer(self, text: str, pos: int = 0, endpos: int | None = None, timeout=None):
        # `timeout` is Presidio's (60 s, then skipped); ours applies.
        return iter(self._run("finditer", text, pos, endpos if endpos is not None else len(text)))

    def search(self, text: str, pos: int = 0, endpos: int | None = None):
        return self._run("search", text, pos, endpos if endpos is not None else len(text))

    def match(self, text: str, pos: int = 0, endpos: int | None = None):
        return self._run("match", text, pos, endpos if endpos is not None else len(text))

    def sub(self, repl, text: str):
        return self._run("sub", repl, text)

    def fullmatch(self, text: str, pos: int = 0, endpos: int | None = None):
        return self._run("fullmatch", text, pos, endpos if endpos is not None else len(text))


def timed(pattern: str, flags: int = 0, *, name: str) -> TimedPattern:
    return TimedPattern(regex.compile(pattern, flags), name)


def guard(recognizers, seconds: float | None = None) -> None:
    """Give every pattern of Presidio's PatternRecognizers among `recognizers` the limit."""
    from presidio_analyzer import PatternRecognizer

    for recognizer in recognizers:
        if not isinstance(recognizer, PatternRecognizer):
            continue
        flags = recognizer.global_regex_flags
        for pattern in recognizer.patterns:
            compiled = regex.compile(pattern.regex, flags)
            name = f"{recognizer.name}/{pattern.name}"
            pattern.compiled_regex = TimedPattern(compiled, name, seconds)
            pattern.compiled_with_flags = flags

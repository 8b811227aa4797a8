"""A static check that a recognizer pattern cannot backtrack catastrophically (ReDoS).

A backtracking engine blows up when one stretch of text can be matched in many ways and the
match then fails: it tries every way. Two shapes make that possible, and this check refuses
both wherever the repetition is unbounded (a bounded one costs at most a constant per start):

* a nested quantifier whose repeated group can split its input differently: `(\\w+)*`,
  `(?:\\w+\\s?)+`, `(?:[ -]+\\w[\\w-]*)*` (the group may end with what it starts with);
* overlapping quantifiers next to each other, with only optional items between them:
  `\\w+\\w+`, `\\d+\\s*\\d+`, `[\\w-]*-+` (the text between them can be shared in many ways).

Character sets are compared on a sample alphabet (ASCII and a few letters, digits and blanks of
other scripts); `\\p{..}` classes of the `regex` module are evaluated with that module. The
check errs on the side of refusing: a refused pattern can always be rewritten so that each
piece of text has one way to match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from re import _constants as c
from re import _parser

import regex

_SAMPLE = [chr(i) for i in range(128)] + list("éÉßÆøŻżЖжΑαΣς’‘“”–—\u00a0\u3000٣٤一ー＠．")
_PROPERTY = re.compile(r"\\[pP]\{[^}]*\}")
_PLACEHOLDER_BASE = 0xE000  # private-use code points stand for \p{..} classes


class UnsafePatternError(ValueError):
    """A pattern that could backtrack catastrophically; the message names where."""


@dataclass(frozen=True)
class _Info:
    first: frozenset[str]
    last: frozenset[str]
    nullable: bool
    unbounded: bool  # may match text of any length
    variable: bool  # may match texts of different lengths


def problems(pattern: str, flags: int = 0) -> list[str]:
    """What makes `pattern` unsafe, in words; empty when it passes."""
    checker = _Checker(pattern, flags)
    checker.walk(checker.tree, checker.ignorecase)
    return checker.found


def check(pattern: str, flags: int = 0, *, where: str) -> None:
    found = problems(pattern, flags)
    if found:
        raise UnsafePatternError(
            f"{where}: the pattern could take time growing steeply with the text's length "
            f"(catastrophic backtracking): {'; '.join(found)}. Rewrite it so that each piece "
            "of text can match in one way only."
        )


class _Checker:
    def __init__(self, pattern: str, flags: int) -> None:
        self.properties: dict[str, str] = {}
        self.found: list[str] = []
        translated = _PROPERTY.sub(self._placeholder, pattern)
        sre_flags = flags & (re.I | re.M | re.S | re.X | re.A)
        self.tree = _parser.parse(translated, sre_flags)
        self.ignorecase = bool(self.tree.state.flags & re.I)
        self.dotall = bool(self.tree.state.flags & re.S)

    def _placeholder(self, match: re.Match) -> str:
        char = chr(_PLACEHOLDER_BASE + len(self.properties))
        self.properties[char] = match.group()
        return f"\\u{ord(char):04x}"

    # -- character sets ------------------------------------------------------------------------

    def _literal(self, code: int, ignorecase: bool) -> frozenset[str]:
        char = chr(code)
        if char in self.properties:
            rx = regex.compile(self.properties[char], regex.I if ignorecase else 0)
            return frozenset(s for s in _SAMPLE if rx.match(s))
        if ignorecase:
            return frozenset({char, char.lower(), char.upper()})
        return frozenset({char})

    def _in(self, items, ignorecase: bool) -> frozenset[str]:
        negate, chars = False, set()
        for op, av in items:
            if op is c.NEGATE:
                negate = True
            elif op is c.LITERAL:
                chars |= self._literal(av, ignorecase)
            elif op is c.RANGE:
                lo, hi = av
                chars |= {s for s in _SAMPLE if lo <= ord(s) <= hi}
                if ignorecase:
                    chars |= {s for s in _SAMPLE if lo <= ord(s.swapcase()[:1] or s) <= hi}
            elif op is c.CATEGORY:
                chars |= _category(av)
        return frozenset(s for s in _SAMPLE if s not in chars) if negate else frozenset(chars)

    # -- what each piece matches ---------------------------------------------------------------

    def info(self, seq, ignorecase: bool) -> _Info:
        first, last, nullable, unbounded, variable = set(), set(), True, False, False
        infos = [self.item(op, av, ignorecase) for op, av in seq]
        for i in infos:
            if nullable:
                first |= i.first
            nullable = nullable and i.nullable
            unbounded = unbounded or i.unbounded
            variable = variable or i.variable
        trailing_nullable = True
        for i in reversed(infos):
            if trailing_nullable:
                last |= i.last
            trailing_nullable = trailing_nullable and i.nullable
        return _Info(frozenset(first), frozenset(last), nullable, unbounded, variable)

    def item(self, op, av, ignorecase: bool) -> _Info:
        one = lambda chars: _Info(chars, chars, False, False, False)  # noqa: E731
        if op is c.LITERAL:
            return one(self._literal(av, ignorecase))
        if op is c.NOT_LITERAL:
            return one(frozenset(s for s in _SAMPLE if s not in self._literal(av, ignorecase)))
        if op is c.ANY:
            return one(frozenset(s for s in _SAMPLE if self.dotall or s != "\n"))
        if op is c.IN:
            return one(self._in(av, ignorecase))
        if op is c.BRANCH:
            alts = [self.info(seq, ignorecase) for seq in av[1]]
            return _Info(
                frozenset().union(*(a.first for a in alts)),
                frozenset().union(*(a.last for a in alts)),
                any(a.nullable for a in alts),
                any(a.unbounded for a in alts),
                True,
            )
        if op is c.SUBPATTERN:
            return self.info(av[3], _scoped_ignorecase(av, ignorecase))
        if op is c.ATOMIC_GROUP:
            return self.info(av, ignorecase)
        if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            lo, hi, body = av
            b = self.info(body, ignorecase)
            return _Info(
                b.first,
                b.last,
                lo == 0 or b.nullable,
                b.unbounded or (hi == c.MAXREPEAT and not b.nullable),
                b.variable or lo != hi,
            )
        if op is c.GROUPREF:
            every = frozenset(_SAMPLE)
            return _Info(every, every, True, True, True)
        # Zero-width: anchors, lookarounds, conditionals treated as matching nothing.
        return _Info(frozenset(), frozenset(), True, False, False)

    # -- the two shapes --------------------------------------------------------------------------

    def walk(self, seq, ignorecase: bool) -> None:
        items = list(seq)
        for op, av in items:
            if op in (c.MAX_REPEAT, c.MIN_REPEAT):
                self._nested(av, ignorecase)
                self.walk(av[2], ignorecase)
            elif op is c.POSSESSIVE_REPEAT:
                continue  # never backtracks into
            elif op is c.SUBPATTERN:
                self.walk(av[3], _scoped_ignorecase(av, ignorecase))
            elif op is c.BRANCH:
                for alt in av[1]:
                    self.walk(alt, ignorecase)
            elif op in (c.ASSERT, c.ASSERT_NOT):
                self.walk(av[1], ignorecase)
        self._adjacent(items, ignorecase)

    def _nested(self, av, ignorecase: bool) -> None:
        lo, hi, body = av
        b = self.info(body, ignorecase)
        if not (b.unbounded or hi == c.MAXREPEAT) or hi <= 1:
            return  # bounded: a constant cost per start
        if not b.variable:
            return  # every repetition the same length: one way to split
        seq = list(body)
        shared = (self._seq_edge(seq, ignorecase, last=True, variable=True) & b.first) | (
            b.last & self._seq_edge(seq, ignorecase, last=False, variable=True)
        )
        if b.nullable or shared:
            self.found.append(
                "nested quantifier: one repetition of a group can take characters of the next "
                f"({_show(shared) or 'it may match nothing'})"
            )

    def _adjacent(self, items, ignorecase: bool) -> None:
        for i, (op, av) in enumerate(items):
            tail = self._edge(op, av, ignorecase, last=True, variable=False)
            if not tail:
                continue
            for op2, av2 in items[i + 1 :]:
                head = self._edge(op2, av2, ignorecase, last=False, variable=False)
                if head and tail & head:
                    shared = _show(tail & head)
                    self.found.append(f"overlapping quantifiers side by side (both match {shared})")
                    return
                if not self.item(op2, av2, ignorecase).nullable:
                    break

    def _edge(self, op, av, ignorecase: bool, *, last: bool, variable: bool) -> frozenset[str]:
        """Characters a run of varying length at the start (or end) of this item may take:
        an unbounded run of one character class, or with `variable`, any run of varying
        length (`\\d{1,3}`, `\\s?`)."""
        if op in (c.MAX_REPEAT, c.MIN_REPEAT):
            lo, hi, body = av
            if len(body) == 1 and body[0][0] in (c.IN, c.LITERAL, c.NOT_LITERAL, c.ANY):
                runs = hi == c.MAXREPEAT or (variable and lo != hi)
                return self.item(*body[0], ignorecase).first if runs else frozenset()
            seq = list(body)
        elif op is c.SUBPATTERN:
            seq, ignorecase = list(av[3]), _scoped_ignorecase(av, ignorecase)
        elif op is c.BRANCH:
            edges = [self._seq_edge(list(alt), ignorecase, last, variable) for alt in av[1]]
            return frozenset().union(*edges)
        else:
            return frozenset()
        return self._seq_edge(seq, ignorecase, last, variable)

    def _seq_edge(self, seq, ignorecase: bool, last: bool, variable: bool = False):
        edge: frozenset[str] = frozenset()
        for op, av in reversed(seq) if last else seq:
            edge |= self._edge(op, av, ignorecase, last=last, variable=variable)
            if not self.item(op, av, ignorecase).nullable:
                break
        return edge


def _scoped_ignorecase(av, ignorecase: bool) -> bool:
    _, add, remove, _ = av
    if add & re.I:
        return True
    if remove & re.I:
        return False
    return ignorecase


def _category(cat) -> set[str]:
    tests = {
        c.CATEGORY_DIGIT: str.isdigit,
        c.CATEGORY_NOT_DIGIT: lambda s: not s.isdigit(),
        c.CATEGORY_SPACE: str.isspace,
        c.CATEGORY_NOT_SPACE: lambda s: not s.isspace(),
        c.CATEGORY_WORD: lambda s: s.isalnum() or s == "_",
        c.CATEGORY_NOT_WORD: lambda s: not (s.isalnum() or s == "_"),
    }
    test = tests.get(cat, lambda s: True)
    return {s for s in _SAMPLE if test(s)}


def _show(chars: frozenset[str]) -> str:
    return " ".join(sorted(repr(s) for s in chars)[:6])

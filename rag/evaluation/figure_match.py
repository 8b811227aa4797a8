"""Whether a text shows a figure: the check of `rag eval figures`, and for answers and quotes.

A figure is given as a filing prints it ("82,959", "$ 1.20", "(2,466)" for a negative). A text
shows it when it holds the same number however it is written: "$82,959", "$ 82,959",
"82959", "82,959 million"; a loss "(2,466)" also as "2,466" or "-2,466" (the words around
it say loss). For a figure counted in millions, a scaled form with at least three
significant digits counts too, rounded as written: "$82.96 billion", "$82.959 billion",
"$83.0 billion"; not "$83 billion" (two digits say too little to tell it from 83,412).
Whole numbers only: "182,959" or "82,9591" do not show 82,959.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# A number as written in text: thousands grouped by commas, or not; an optional decimal part.
# Not inside a longer number or word ("182,959", "A82,959", "82,959.4").
_NUMBER = re.compile(
    r"(?<![\w.,])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\d]|[.,]\d)"
    r"(?:\s*(?P<scale>trillion|billion|million|thousand|bn|tn|[BMK])\b)?",
    re.IGNORECASE,
)
_SCALES_IN_MILLIONS = {
    "trillion": Decimal(1_000_000),
    "tn": Decimal(1_000_000),
    "billion": Decimal(1000),
    "bn": Decimal(1000),
    "b": Decimal(1000),
    "million": Decimal(1),
    "m": Decimal(1),
    "thousand": Decimal("0.001"),
    "k": Decimal("0.001"),
}
_MIN_SIGNIFICANT_DIGITS = 3


def figure_value(figure: str) -> Decimal:
    """The magnitude of a figure as printed: "$ (2,466)" -> 2466, "1.20" -> 1.20."""
    digits = re.sub(r"[^\d.]", "", figure)
    try:
        return abs(Decimal(digits))
    except InvalidOperation as exc:
        raise ValueError(f"not a figure: {figure!r}") from exc


def shows_figure(text: str, figure: str, in_millions: bool = True) -> bool:
    """Whether `text` holds `figure` (as printed in a filing). `in_millions`: the figure counts
    millions (a statement's "(In millions)"), so "$82.96 billion" may show 82,959."""
    target = figure_value(figure)
    for match in _NUMBER.finditer(text):
        scale = (match.group("scale") or "").lower()
        written = (
            match.group(0)[: match.start("scale") - match.start()] if scale else match.group(0)
        )
        written = written.strip().replace(",", "")
        factor = _SCALES_IN_MILLIONS.get(scale, Decimal(1)) if in_millions else Decimal(1)
        if factor == 1:
            if Decimal(written) == target and (in_millions or not scale):
                return True
        elif _rounds_to(target / factor, written):
            return True
    return False


def _rounds_to(exact: Decimal, written: str) -> bool:
    """`written` is `exact` rounded to the decimals it shows, with enough digits to mean it."""
    if len(re.sub(r"\D", "", written).lstrip("0")) < _MIN_SIGNIFICANT_DIGITS:
        return False
    shown = Decimal(written)
    return exact.quantize(shown) == shown

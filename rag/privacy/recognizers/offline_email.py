"""E-mail addresses, by their syntax alone, on any domain, and without a network call.

Presidio's recognizer keeps an address only when its domain ends in a public suffix (checked
with `tldextract`, which also downloads the suffix list on first use), so intranet and reserved
domains (`.internal`, `.corp`, `.local`, `.lan`, `.example`, `.test`) and a bare company host
(`jane@acme`) stayed in the text. An address is personal data whatever its domain.

A host must end in a label that starts with a letter, so version pins ("requests@2.31.0",
"node@18") are not addresses; an address on a dotted domain scores higher than one on a bare
host. Each piece of text has one way to match (pattern_safety.py checks it).
"""

from __future__ import annotations

import regex
from presidio_analyzer import Pattern, PatternRecognizer

_LOCAL_CHAR = r"[\w!#$%&'*+/=?^`{|}~-]"
# Starts with a word character: "`@gsa.gov`" in Markdown is a domain, not an address.
_LOCAL = rf"\w{_LOCAL_CHAR}*(?:\.{_LOCAL_CHAR}+)*"
_LABEL = r"[^\W_]+(?:-+[^\W_]+)*"
_LAST_LABEL = r"[^\W\d_][^\W_]*(?:-+[^\W_]+)*"  # starts with a letter, as every TLD does
# Start only where a run of address characters starts, end only where it ends.
_BEFORE = r"(?<![\w!#$%&'*+/=?^`{|}~.@-])"
_AFTER = r"(?![\w@-]|\.[^\W_])"

DOTTED = rf"{_BEFORE}{_LOCAL}@(?:{_LABEL}\.)+{_LAST_LABEL}{_AFTER}"
BARE_HOST = rf"{_BEFORE}{_LOCAL}@{_LAST_LABEL}{_AFTER}"


class OfflineEmailRecognizer(PatternRecognizer):
    def __init__(self, score: float = 1.0, bare_host_score: float = 0.7) -> None:
        super().__init__(
            supported_entity="EMAIL_ADDRESS",
            name="EmailRecognizer",
            patterns=[
                Pattern("email_dotted_domain", DOTTED, score),
                Pattern("email_bare_host", BARE_HOST, bare_host_score),
            ],
            context=["email", "mail", "e-mail", "contact", "write"],
            global_regex_flags=regex.M,  # case matters nowhere here; no `.` either
        )

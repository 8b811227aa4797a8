"""Presidio's PhoneRecognizer, run only on text where it can find a number we keep.

It has python-phonenumbers parse every run of figures once per region (8 regions): on the SEC
filings that was 13 % of the anonymizer's time (bench/RESULTS.md, issue 19), nearly all of it
on years and amounts. The anonymizer keeps no phone number of fewer than MIN_PHONE_DIGITS
digits (phone_numbers.too_short_for_a_phone), and the matcher only ever returns part of a
match of its own candidate pattern (`_PATTERN`: digit blocks joined by its punctuation, an
optional extension; matched greedily, so a run of digit blocks is one candidate). So text
where no candidate holds that many digits is skipped: what is kept is the same (the same
spans on the filings, the handbook and the PII set); only the cost of finding nothing goes
(31 of the filings' 273 texts still run it).
"""

from __future__ import annotations

from phonenumbers.phonenumbermatcher import _PATTERN as CANDIDATE
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

from rag.privacy.recognizers.phone_numbers import MIN_PHONE_DIGITS


def could_hold_a_phone(text: str) -> bool:
    """Whether a candidate of python-phonenumbers' matcher holds MIN_PHONE_DIGITS digits."""
    return any(
        sum(c.isdigit() for c in match.group()) >= MIN_PHONE_DIGITS
        for match in CANDIDATE.finditer(text)
    )


class GatedPhoneRecognizer(PhoneRecognizer):
    """PhoneRecognizer with the same settings, name and results, skipped where it finds only
    numbers too short to keep."""

    @classmethod
    def replacing(cls, recognizer: PhoneRecognizer) -> GatedPhoneRecognizer:
        return cls(
            context=recognizer.context,
            supported_language=recognizer.supported_language,
            supported_entity=recognizer.supported_entities[0],
            supported_regions=recognizer.supported_regions,
            leniency=recognizer.leniency,
            name=recognizer.name,
        )

    def analyze(self, text: str, entities, nlp_artifacts=None):
        if not could_hold_a_phone(text):
            return []
        return super().analyze(text, entities, nlp_artifacts)

"""Presidio's e-mail recognizer, minus its network call.

The stock recognizer validates the domain with `tldextract.extract`, which downloads the public
suffix list on first use. Here the same check runs on the snapshot that ships inside tldextract.
"""

from __future__ import annotations

import tldextract
from presidio_analyzer.predefined_recognizers import EmailRecognizer

# No suffix-list URLs and no cache dir: the bundled snapshot only, nothing fetched or written.
_OFFLINE_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


class OfflineEmailRecognizer(EmailRecognizer):
    def validate_result(self, pattern_text: str) -> bool:
        return _OFFLINE_EXTRACT(pattern_text).fqdn != ""

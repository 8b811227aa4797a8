"""Test-only loaders, registered in each file worker process by `register` (its setup hook):
`.endless` never finishes parsing, `.hog` allocates 1 GB, `.slowpages` parses into two pages
whose anonymization never finishes."""

from __future__ import annotations

from pathlib import Path

from ingest.loaders import DEFAULT_LIMITS, LOADERS, LoadedDocument, LoadLimits, Page

NEVER_ENDS = "this page never finishes anonymizing"


class EndlessLoader:
    extensions = (".endless",)

    def load(
        self, path: Path, limits: LoadLimits = DEFAULT_LIMITS, data: bytes | None = None
    ) -> LoadedDocument:
        while True:
            pass


class HogLoader:
    extensions = (".hog",)

    def load(
        self, path: Path, limits: LoadLimits = DEFAULT_LIMITS, data: bytes | None = None
    ) -> LoadedDocument:
        hoard = bytearray(1024 * 1024 * 1024)
        return LoadedDocument(title="never", pages=[Page(1, str(len(hoard)))])


class SlowPagesLoader:
    extensions = (".slowpages",)

    def load(
        self, path: Path, limits: LoadLimits = DEFAULT_LIMITS, data: bytes | None = None
    ) -> LoadedDocument:
        return LoadedDocument(title="slow", pages=[Page(1, NEVER_ENDS), Page(2, NEVER_ENDS)])


def register() -> None:
    from rag.privacy.anonymizer import Anonymizer

    for loader in (EndlessLoader(), HogLoader(), SlowPagesLoader()):
        for extension in loader.extensions:
            LOADERS[extension] = loader
    real = Anonymizer.anonymize_many

    def anonymize_many(self, texts):
        while NEVER_ENDS in texts:
            pass
        return real(self, texts)

    Anonymizer.anonymize_many = anonymize_many

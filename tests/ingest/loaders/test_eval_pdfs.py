"""Every real-world PDF in the shared eval set loads or fails with a clean LoaderError."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import pytest

from ingest.loaders import LoadedDocument, LoaderError, load_document


def _eval_pdfs_dir() -> Path | None:
    """shared/eval/pdfs beside the repository (or inside it, on a copied checkout)."""
    if os.environ.get("EVAL_PDFS_DIR"):
        return Path(os.environ["EVAL_PDFS_DIR"])
    here = Path(__file__).resolve()
    repo = next((p for p in here.parents if (p / "pyproject.toml").is_file()), here.parents[3])
    for candidate in (repo.parent / "shared", repo / "shared"):
        if (candidate / "eval" / "pdfs").is_dir():
            return candidate / "eval" / "pdfs"
    return None


PDFS = _eval_pdfs_dir()
if PDFS is None:
    pytest.skip("shared/eval/pdfs is not present in this checkout", allow_module_level=True)

ALL_PDFS = sorted(PDFS.rglob("*.pdf"))
SAMPLES = PDFS / "py-pdf_sample-files"
PASSWORD = "PDF is encrypted with a password: remove the password or provide an unencrypted copy"
NEEDS_OCR = "PDF has no text layer: scanned images need OCR"

# A pathological file must fail its own case, not hang the suite (pytest-timeout).
pytestmark = pytest.mark.timeout(60)


@functools.cache  # several tests look at the same files; parse each once
def _load(path: Path) -> LoadedDocument | str:
    """The document, or the LoaderError message; any other exception escapes and fails."""
    try:
        return load_document(path)
    except LoaderError as exc:
        return str(exc)


def _sample(relative: str) -> Path:
    path = SAMPLES / relative
    if not path.is_file():
        pytest.skip(f"{relative} is not in this copy of the eval set")
    return path


def test_the_eval_set_is_not_empty():
    assert len(ALL_PDFS) >= 100


@pytest.mark.parametrize("path", ALL_PDFS, ids=lambda p: str(p.relative_to(PDFS)))
def test_loads_or_fails_cleanly(path: Path):
    result = _load(path)
    if isinstance(result, str):
        assert result.strip(), "empty error message"
        assert "\n" not in result and "\r" not in result
        assert len(result) < 200
        return
    assert result.has_text
    assert result.title.strip() and "\n" not in result.title and len(result.title) <= 200
    numbers = [page.number for page in result.pages]
    assert numbers == sorted(set(numbers)) and numbers[0] >= 1
    assert all(page.text.strip() and "\x00" not in page.text for page in result.pages)


def _catalog() -> list[dict]:
    return json.loads((SAMPLES / "files.json").read_text(encoding="utf-8"))["data"]


def test_encrypted_samples_from_the_catalog_ask_for_the_password():
    encrypted = [entry["path"] for entry in _catalog() if entry.get("encrypted")]
    assert "005-libreoffice-writer-password/libreoffice-writer-password.pdf" in encrypted
    for relative in encrypted:
        assert _load(_sample(relative)) == PASSWORD, relative


def test_catalog_page_counts_bound_the_page_numbers():
    checked = 0
    for entry in _catalog():
        path = SAMPLES / entry["path"]
        if not path.is_file() or entry.get("encrypted"):
            continue
        result = _load(path)
        if isinstance(result, LoadedDocument):
            assert result.pages[-1].number <= entry["pages"], entry["path"]
            checked += 1
    assert checked >= 20


@pytest.mark.parametrize(
    "relative",
    [
        "019-grayscale-image/grayscale-image.pdf",
        "023-cmyk-image/cmyk-image.pdf",
        "007-imagemagick-images/imagemagick-lzw.pdf",
        "007-imagemagick-images/imagemagick-CCITTFaxDecode.pdf",
    ],
)
def test_image_only_samples_need_ocr(relative):
    assert _load(_sample(relative)) == NEEDS_OCR


def test_image_pages_are_left_out_but_numbering_stays_true():
    doc = _load(_sample("007-imagemagick-images/imagemagick-images.pdf"))
    assert isinstance(doc, LoadedDocument)
    assert [page.number for page in doc.pages] == [1, 2, 3, 6]


def test_four_page_latex_document():
    doc = _load(_sample("004-pdflatex-4-pages/pdflatex-4-pages.pdf"))
    assert isinstance(doc, LoadedDocument)
    assert [page.number for page in doc.pages] == [1, 2, 3, 4]
    assert doc.pages[0].text.startswith("Hello, here is some text without a meaning.")


def test_pdfa_title_and_text():
    doc = _load(_sample("021-pdfa/crazyones-pdfa.pdf"))
    assert isinstance(doc, LoadedDocument)
    assert doc.title == "The Crazy Ones"
    assert "the crazy ones" in doc.pages[0].text.lower()


def test_broken_page_tree_is_reported_as_corrupt():
    # pypdf cannot rebuild this file's /Pages tree ("Invalid object in /Pages").
    result = _load(_sample("017-unreadable-meta-data/unreadablemetadata.pdf"))
    assert result == "corrupt PDF: could not be parsed (PdfReadError)"


def test_empty_file_from_pdfplumber():
    path = PDFS / "pdfplumber" / "tests" / "pdfs" / "empty.pdf"
    if not path.is_file():
        pytest.skip("pdfplumber/tests/pdfs/empty.pdf is not in this copy of the eval set")
    assert path.stat().st_size == 0
    assert _load(path) == "file is empty"


ENCRYPTION = PDFS / "pypdf" / "resources" / "encryption"


@pytest.mark.parametrize(
    "name",
    [
        "r2-user-password.pdf",
        "r3-user-password.pdf",
        "r4-user-password.pdf",
        "r4-aes-user-password.pdf",
        "r6-both-passwords.pdf",
    ],
)
def test_pypdf_files_with_a_user_password(name):
    if not (ENCRYPTION / name).is_file():
        pytest.skip(f"{name} is not in this copy of the eval set")
    assert _load(ENCRYPTION / name) == PASSWORD


@pytest.mark.parametrize(
    "name",
    # "*-user-password" files of revisions 5 and 6 have an empty *owner* password
    # (qpdf --encrypt asdfzxcv ""), so the empty password opens them, as in any viewer.
    [
        "r2-empty-password.pdf",
        "r4-owner-password.pdf",
        "r5-user-password.pdf",
        "r6-user-password.pdf",
        "r6-owner-password.pdf",
        "unencrypted.pdf",
    ],
)
def test_pypdf_files_that_open_with_the_empty_password(name):
    if not (ENCRYPTION / name).is_file():
        pytest.skip(f"{name} is not in this copy of the eval set")
    doc = _load(ENCRYPTION / name)
    assert isinstance(doc, LoadedDocument), doc
    assert doc.pages[0].text.startswith("pdf encryption test")

"""PdfLoader against PDFs built with fpdf2 at test time."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pypdf
import pytest
from fpdf import FPDF
from PIL import Image
from pypdf import PdfWriter

import ingest.loaders.pdf as pdf_loader
from ingest.loaders import LoaderError
from ingest.loaders.pdf import PdfLoader, normalize_text

PASSWORD_MESSAGE = (
    "PDF is encrypted with a password: remove the password or provide an unencrypted copy"
)


def make_pdf(path: Path, pages: list[str], title: str | None = None, **encryption: str) -> Path:
    """One PDF page per entry; an empty entry gives a page with nothing on it."""
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    if title is not None:
        pdf.set_title(title)
    if encryption:
        pdf.set_encryption(**encryption)
    for text in pages:
        pdf.add_page()
        if text:
            pdf.multi_cell(0, 8, text)
    pdf.output(str(path))
    return path


@pytest.fixture
def loader() -> PdfLoader:
    return PdfLoader()


def test_text_lands_on_its_page_number_and_blank_pages_are_left_out(tmp_path, loader):
    path = make_pdf(tmp_path / "report.pdf", ["Alpha on one", "", "Gamma on three", "Delta four"])
    doc = loader.load(path)
    assert [page.number for page in doc.pages] == [1, 3, 4]
    assert [page.text for page in doc.pages] == ["Alpha on one", "Gamma on three", "Delta four"]
    assert all(page.heading is None for page in doc.pages)


def test_title_comes_from_metadata(tmp_path, loader):
    path = make_pdf(tmp_path / "q3.pdf", ["Body text"], title="Quarterly Report Q3")
    assert loader.load(path).title == "Quarterly Report Q3"


def test_title_falls_back_to_first_line_when_metadata_title_is_blank(tmp_path, loader):
    source = make_pdf(tmp_path / "src.pdf", ["\n   \nSafety Manual\nSecond line"])
    writer = PdfWriter(clone_from=str(source))
    writer.add_metadata({"/Title": "   "})
    target = tmp_path / "blank-title.pdf"
    writer.write(str(target))
    assert loader.load(target).title == "Safety Manual"


def test_first_line_title_is_trimmed_to_200_chars(tmp_path, loader):
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=2)
    pdf.text(5, 10, "W" * 300)  # one text operation: one extracted line
    path = tmp_path / "long.pdf"
    pdf.output(str(path))
    assert loader.load(path).title == "W" * 200


def test_hyphenated_line_break_is_joined(tmp_path, loader):
    path = make_pdf(tmp_path / "hyphen.pdf", ["An exam-\nple of hyphenation"])
    assert loader.load(path).pages[0].text == "An example of hyphenation"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a  b\t\tc", "a b c"),
        ("trailing   \nnext", "trailing\nnext"),
        ("nul\x00char", "nulchar"),
        ("exam-\nple", "example"),
        ("exam-\n   ple", "example"),
        ("COVID-\n19", "COVID-\n19"),
        ("Jean-\nPierre", "Jean-\nPierre"),
        ("one\n\n\n\n\ntwo", "one\n\ntwo"),
        ("crlf\r\nline", "crlf\nline"),
    ],
)
def test_normalize_text(raw, expected):
    assert normalize_text(raw) == expected


def test_empty_file(tmp_path, loader):
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    with pytest.raises(LoaderError, match=r"^file is empty$"):
        loader.load(path)


def test_other_format_renamed_to_pdf(tmp_path, loader):
    path = tmp_path / "letter.pdf"
    path.write_bytes(b"PK\x03\x04 confidential salary list " * 50)
    with pytest.raises(LoaderError) as info:
        loader.load(path)
    assert str(info.value) == ("not a PDF: no %PDF header (is it another format renamed to .pdf?)")


def test_header_after_leading_junk_within_1024_bytes_is_accepted(tmp_path, loader):
    source = make_pdf(tmp_path / "src.pdf", ["Still readable"])
    path = tmp_path / "junk.pdf"
    path.write_bytes(b"\n" * 500 + source.read_bytes())
    assert loader.load(path).pages[0].text == "Still readable"


@pytest.mark.parametrize("cut", [0.5, 0.1])
def test_truncated_pdf_is_reported_as_corrupt_without_content(tmp_path, loader, cut):
    data = make_pdf(tmp_path / "src.pdf", ["Secret salary 12345"]).read_bytes()
    path = tmp_path / "truncated.pdf"
    path.write_bytes(data[: int(len(data) * cut)])
    with pytest.raises(LoaderError) as info:
        loader.load(path)
    message = str(info.value)
    assert re.fullmatch(r"corrupt PDF: could not be parsed \(\w+\)", message), message


def test_garbage_after_header_is_corrupt(tmp_path, loader):
    path = tmp_path / "garbage.pdf"
    path.write_bytes(b"%PDF-1.4\nthis is not a pdf body, password=hunter2\n")
    with pytest.raises(LoaderError) as info:
        loader.load(path)
    # The class name depends on the pypdf version; the shape and the absence of content do not.
    message = str(info.value)
    assert re.fullmatch(r"corrupt PDF: could not be parsed \(\w+\)", message), message
    assert "hunter2" not in message


def test_pdf_without_pages(tmp_path, loader):
    path = tmp_path / "no-pages.pdf"
    PdfWriter().write(str(path))
    with pytest.raises(LoaderError, match=r"^PDF has no pages$"):
        loader.load(path)


def test_encrypted_with_user_password_is_refused(tmp_path, loader):
    path = make_pdf(
        tmp_path / "locked.pdf", ["Hidden"], owner_password="owner", user_password="secret"
    )
    with pytest.raises(LoaderError) as info:
        loader.load(path)
    assert str(info.value) == PASSWORD_MESSAGE


def test_encrypted_with_empty_user_password_loads(tmp_path, loader):
    path = make_pdf(tmp_path / "owner-only.pdf", ["Open to all", "Page two"], owner_password="o")
    assert pypdf.PdfReader(str(path)).is_encrypted
    doc = loader.load(path)
    assert [(page.number, page.text) for page in doc.pages] == [(1, "Open to all"), (2, "Page two")]


def test_image_only_pdf_needs_ocr(tmp_path, loader):
    image = tmp_path / "scan.png"
    Image.new("RGB", (60, 40), "gray").save(image)
    pdf = FPDF()
    for _ in range(2):
        pdf.add_page()
        pdf.image(str(image), x=10, y=10, w=100)
    path = tmp_path / "scan.pdf"
    pdf.output(str(path))
    with pytest.raises(LoaderError) as info:
        loader.load(path)
    assert str(info.value) == "PDF has no text layer: scanned images need OCR"


def test_blank_pages_only_need_ocr(tmp_path, loader):
    path = make_pdf(tmp_path / "blank.pdf", ["", "", ""])
    with pytest.raises(LoaderError, match=r"^PDF has no text layer: scanned images need OCR$"):
        loader.load(path)


def _failing_on(pages_to_fail: set[int], monkeypatch: pytest.MonkeyPatch) -> None:
    original = pypdf.PageObject.extract_text

    def extract_text(self, *args, **kwargs):
        if self.page_number + 1 in pages_to_fail:
            raise KeyError("/Font")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pypdf.PageObject, "extract_text", extract_text)
    # PDFium cannot read them either (pypdf is its fallback).
    fast_read = pdf_loader._PdfiumText.read

    def read(self, index: int):
        return None if index + 1 in pages_to_fail else fast_read(self, index)

    monkeypatch.setattr(pdf_loader._PdfiumText, "read", read)


def test_a_page_that_fails_is_skipped_and_logged(tmp_path, loader, monkeypatch, caplog):
    path = make_pdf(tmp_path / "Review of Priya Raman.pdf", ["One", "Two", "Three"])
    _failing_on({2}, monkeypatch)
    with caplog.at_level(logging.WARNING, logger="ingest.loaders.pdf"):
        doc = loader.load(path)
    assert [(page.number, page.text) for page in doc.pages] == [(1, "One"), (3, "Three")]
    warnings = [r.getMessage() for r in caplog.records if r.name == "ingest.loaders.pdf"]
    # No file name: a name may be personal data, and the log is no place for it.
    assert warnings == ["a PDF page could not be read (page 2, KeyError), skipped"]


def test_all_pages_failing_is_corrupt(tmp_path, loader, monkeypatch):
    path = make_pdf(tmp_path / "broken.pdf", ["One", "Two"])
    _failing_on({1, 2}, monkeypatch)
    with pytest.raises(LoaderError) as info:
        loader.load(path)
    assert str(info.value) == "corrupt PDF: no page could be read"


def test_a_pdf_pdfium_cannot_open_is_read_by_pypdf(tmp_path, loader, monkeypatch, caplog):
    path = make_pdf(tmp_path / "report.pdf", ["Alpha on one", "Beta on two"])
    expected = [(page.number, page.text) for page in loader.load(path).pages]

    def refuse(*_args, **_kwargs):
        raise pdf_loader.pypdfium2.PdfiumError("Failed to load document")

    monkeypatch.setattr(pdf_loader.pypdfium2, "PdfDocument", refuse)
    with caplog.at_level(logging.WARNING, logger="ingest.loaders.pdf"):
        doc = loader.load(path)
    assert [(page.number, page.text) for page in doc.pages] == expected
    assert expected == [(1, "Alpha on one"), (2, "Beta on two")]
    warnings = [r.getMessage() for r in caplog.records if r.name == "ingest.loaders.pdf"]
    assert warnings == ["PDFium could not open a PDF (PdfiumError): pypdf reads it"]

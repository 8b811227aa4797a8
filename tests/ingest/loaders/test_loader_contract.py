"""The contract every loader in the registry keeps, on tiny files made here: pages numbered
from 1, a title, one plain line (a LoaderError, no file name, no content) for each kind of bad
file, the limits honoured, and the same document from `data` as from the path."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import docx
import pytest
from docx.enum.text import WD_BREAK
from fpdf import FPDF

from ingest.loaders import DEFAULT_LIMITS, LOADERS, LoaderError, load_document

# A file name that is personal data: it must never show in an error.
STEM = "Priya_Raman_appraisal"
SECRET = "Quillfeather"  # a word of the content: it must never show in an error either


def pdf_bytes(pages: int) -> bytes:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for number in range(1, pages + 1):
        pdf.add_page()
        pdf.multi_cell(0, 8, f"Section {number}\n{SECRET} leave policy, part {number}.")
    return bytes(pdf.output())


def docx_bytes(pages: int) -> bytes:
    document = docx.Document()
    for number in range(1, pages + 1):
        if number > 1:
            document.paragraphs[-1].add_run().add_break(WD_BREAK.PAGE)
        document.add_heading(f"Section {number}", level=1)
        document.add_paragraph(f"{SECRET} leave policy, part {number}.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def html_bytes(pages: int) -> bytes:
    sections = "".join(
        f"<h1>Section {n}</h1><p>{SECRET} leave policy, part {n}.</p>" for n in range(1, pages + 1)
    )
    return f"<html><body>{sections}</body></html>".encode()


def markdown_bytes(pages: int) -> bytes:
    return "".join(
        f"# Section {n}\n\n{SECRET} leave policy, part {n}.\n\n" for n in range(1, pages + 1)
    ).encode()


def text_bytes(pages: int) -> bytes:
    return "\f".join(
        f"Section {n}\n{SECRET} leave policy, part {n}." for n in range(1, pages + 1)
    ).encode()


MAKERS = {
    ".pdf": pdf_bytes,
    ".docx": docx_bytes,
    ".html": html_bytes,
    ".htm": html_bytes,
    ".md": markdown_bytes,
    ".markdown": markdown_bytes,
    ".txt": text_bytes,
    ".text": text_bytes,
}
BINARY = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01" + bytes(range(256)) * 8
# Each format as another format's bytes: what a renamed file looks like.
WRONG_CONTENT = {
    ".pdf": docx_bytes(1),
    ".docx": pdf_bytes(1),
    **dict.fromkeys((".html", ".htm", ".md", ".markdown", ".txt", ".text"), docx_bytes(1)),
}
# Each format cut short; for the text formats, binary junk (a cut text is still text).
CORRUPT = {
    ".pdf": pdf_bytes(2)[: len(pdf_bytes(2)) // 2],
    ".docx": docx_bytes(2)[: len(docx_bytes(2)) // 2],
    **dict.fromkeys((".html", ".htm", ".md", ".markdown", ".txt", ".text"), BINARY),
}
# What a file exceeding each limit looks like, and the limits that refuse it.
TOO_MANY_PAGES = replace(DEFAULT_LIMITS, max_pages=2)


def test_every_registered_extension_has_samples():
    assert set(MAKERS) == set(LOADERS) == set(WRONG_CONTENT) == set(CORRUPT)


@pytest.fixture(params=sorted(LOADERS))
def extension(request) -> str:
    return request.param


def write(tmp_path: Path, extension: str, data: bytes) -> Path:
    path = tmp_path / f"{STEM}{extension}"
    path.write_bytes(data)
    return path


def assert_one_plain_line(error: LoaderError) -> None:
    message = str(error)
    assert message and "\n" not in message
    assert "Traceback" not in message
    assert STEM not in message and "Priya" not in message
    assert SECRET not in message


def test_pages_are_numbered_from_one_with_a_title(tmp_path, extension):
    document = load_document(write(tmp_path, extension, MAKERS[extension](3)))
    numbers = [page.number for page in document.pages]
    assert numbers[0] == 1
    assert numbers == sorted(set(numbers)), "page numbers rise"
    assert len(numbers) == 3
    assert all(SECRET in page.text for page in document.pages)
    assert document.title.strip()


def test_loading_from_data_equals_loading_from_the_path(tmp_path, extension):
    data = MAKERS[extension](2)
    path = write(tmp_path, extension, data)
    loader = LOADERS[extension]
    assert loader.load(path, DEFAULT_LIMITS, data) == loader.load(path, DEFAULT_LIMITS)
    assert load_document(path, data=data) == load_document(path)


@pytest.mark.parametrize(
    "kind",
    ["empty", "corrupt", "wrong content"],
)
def test_a_bad_file_gets_one_plain_line(tmp_path, extension, kind):
    data = {"empty": b"", "corrupt": CORRUPT, "wrong content": WRONG_CONTENT}[kind]
    data = data if isinstance(data, bytes) else data[extension]
    path = write(tmp_path, extension, data)
    with pytest.raises(LoaderError) as from_path:
        load_document(path)
    with pytest.raises(LoaderError) as from_data:
        load_document(path, data=data)
    assert_one_plain_line(from_path.value)
    assert str(from_data.value) == str(from_path.value)


def test_more_pages_than_the_limit_are_refused(tmp_path, extension):
    path = write(tmp_path, extension, MAKERS[extension](3))
    assert len(load_document(path, replace(DEFAULT_LIMITS, max_pages=3)).pages) == 3
    with pytest.raises(LoaderError, match="ingest.max_pages") as caught:
        load_document(path, TOO_MANY_PAGES)
    assert_one_plain_line(caught.value)

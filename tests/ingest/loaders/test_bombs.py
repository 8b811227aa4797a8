"""Decompression bombs fail at once with a reason, before they are unpacked or walked.

Each bomb is generated here, tiny on disk; the limits are lowered where a bomb at the default
limit would take long to generate. A generous guard against hangs, never a timing assertion."""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
import pytest
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject

from ingest.loaders import LoaderError, LoadLimits, load_document


def _docx_with_member(path: Path, member_mb: int) -> Path:
    document = docx.Document()
    document.add_paragraph("Quarterly report.")
    document.save(str(path))
    with (
        zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("word/media/image1.bin", "w", force_zip64=True) as member,
    ):
        for _ in range(member_mb):
            member.write(bytes(1024 * 1024))
    return path


def test_a_docx_whose_members_inflate_past_the_limit_fails_before_unpacking(tmp_path):
    bomb = _docx_with_member(tmp_path / "bomb.docx", member_mb=64)
    assert bomb.stat().st_size < 200_000  # 64 MB of zeros squeezed into a few KB

    with pytest.raises(LoaderError) as failure:
        load_document(bomb, LoadLimits(max_unpacked_mb=16))
    # 64 MB of the member and the document's own parts.
    assert str(failure.value) == (
        "DOCX would unpack to 65 MB, more than the limit of 16 MB (ingest.max_unpacked_mb): "
        "a decompression bomb?"
    )


def test_a_docx_within_the_limit_is_read(tmp_path):
    ordinary = _docx_with_member(tmp_path / "ordinary.docx", member_mb=1)
    assert load_document(ordinary, LoadLimits(max_unpacked_mb=16)).pages[0].text == (
        "Quarterly report."
    )


def _pdf_of_a_million_pages(path: Path) -> Path:
    """One page, referenced 1000 times by a node that the root references 1000 times."""
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    root = writer._root_object["/Pages"]
    node = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Pages"),
            NameObject("/Kids"): ArrayObject([root["/Kids"][0]] * 1000),
            NameObject("/Count"): NumberObject(1000),
        }
    )
    root[NameObject("/Kids")] = ArrayObject([writer._add_object(node)] * 1000)
    root[NameObject("/Count")] = NumberObject(1_000_000)
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def test_a_pdf_of_a_million_pages_fails_before_its_pages_are_walked(tmp_path):
    bomb = _pdf_of_a_million_pages(tmp_path / "bomb.pdf")
    assert bomb.stat().st_size < 50_000
    with pytest.raises(LoaderError) as failure:
        load_document(bomb)
    assert str(failure.value) == (
        "PDF claims 1000000 pages, more than the limit of 20000 (ingest.max_pages)"
    )


@pytest.mark.timeout(120)
def test_deeply_nested_html_fails_with_a_reason(tmp_path):
    bomb = tmp_path / "bomb.html"
    bomb.write_text("<h1>" * 50_000 + "deep" + "</h1>" * 50_000)
    with pytest.raises(LoaderError) as failure:
        load_document(bomb)
    assert str(failure.value) == (
        "HTML is nested more than 5000 elements deep (ingest.max_html_depth)"
    )


def test_html_nested_within_the_limit_is_read(tmp_path):
    page = tmp_path / "nested.html"
    page.write_text("<div>" * 100 + "<p>Parking is free.</p>" + "</div>" * 100)
    assert load_document(page, LoadLimits(max_html_depth=200)).pages[0].text == ("Parking is free.")

"""The loader registry: extension lookup, error wrapping, re-exports."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import ingest.loaders as loaders
from ingest.loaders import (
    LOADERS,
    SUPPORTED_EXTENSIONS,
    LoadedDocument,
    LoaderError,
    Page,
    UnsupportedFormat,
    load_document,
    loader_for,
)
from ingest.loaders.base import LoadedDocument as BaseLoadedDocument
from ingest.loaders.base import LoaderError as BaseLoaderError
from ingest.loaders.base import Page as BasePage
from ingest.loaders.docx import DocxLoader
from ingest.loaders.html import HtmlLoader
from ingest.loaders.markdown import MarkdownLoader
from ingest.loaders.pdf import PdfLoader
from ingest.loaders.text import TextLoader


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_supported_extensions():
    assert set(SUPPORTED_EXTENSIONS) == {
        ".pdf",
        ".docx",
        ".html",
        ".htm",
        ".md",
        ".markdown",
        ".txt",
        ".text",
    }
    assert set(LOADERS) == set(SUPPORTED_EXTENSIONS)


@pytest.mark.parametrize(
    ("name", "loader_type"),
    [
        ("a.pdf", PdfLoader),
        ("B.PDF", PdfLoader),
        ("c.docx", DocxLoader),
        ("d.html", HtmlLoader),
        ("e.HTM", HtmlLoader),
        ("f.md", MarkdownLoader),
        ("g.markdown", MarkdownLoader),
        ("h.txt", TextLoader),
        ("i.text", TextLoader),
    ],
)
def test_loader_for_known_extensions(name, loader_type):
    assert isinstance(loader_for(Path("/docs") / name), loader_type)


@pytest.mark.parametrize("name", ["a.xyz", "b.doc", "c.log", "README", "archive.tar.gz"])
def test_loader_for_unknown_is_none(name):
    assert loader_for(name) is None


def test_reexports_are_the_base_classes():
    assert (Page, LoadedDocument, LoaderError) == (BasePage, BaseLoadedDocument, BaseLoaderError)
    assert issubclass(UnsupportedFormat, LoaderError)


def test_unsupported_extension(tmp_path):
    with pytest.raises(UnsupportedFormat) as info:
        load_document(write(tmp_path, "data.xyz", b"whatever"))
    assert str(info.value) == "unsupported file type '.xyz'"
    with pytest.raises(UnsupportedFormat, match=r"^unsupported file type \(no extension\)$"):
        load_document(write(tmp_path, "Makefile", b"all:"))


def test_an_unsupported_suffix_that_is_part_of_a_name_is_not_quoted(tmp_path):
    # "Dr. Priya Raman" has the suffix ". Priya Raman": a name, not a file type.
    with pytest.raises(UnsupportedFormat) as info:
        load_document(write(tmp_path, "Notes on Dr. Priya Raman", b"whatever"))
    assert "Raman" not in str(info.value)
    assert str(info.value) == "unsupported file type (no plain extension such as .pdf)"


@pytest.mark.parametrize("name", sorted(f"empty{ext}" for ext in SUPPORTED_EXTENSIONS))
def test_empty_file_of_every_type(tmp_path, name):
    with pytest.raises(LoaderError) as info:
        load_document(write(tmp_path, name, b""))
    assert str(info.value) == "file is empty"


def test_loads_a_text_file(tmp_path):
    doc = load_document(write(tmp_path, "Notes.TXT", b"Hello\nworld"))
    assert doc.title == "Hello"
    assert doc.pages == [Page(number=1, text="Hello\nworld")]


def test_document_without_text_from_any_loader(tmp_path, monkeypatch):
    class Blank:
        extensions = (".txt",)

        def load(self, path, limits=None, data=None):
            return LoadedDocument(title="t", pages=[Page(number=1, text="  \n")])

    monkeypatch.setitem(loaders.LOADERS, ".txt", Blank())
    with pytest.raises(LoaderError) as info:
        load_document(write(tmp_path, "blank.txt", b"x"))
    assert str(info.value) == "document has no text"


def test_pdf_specific_message_passes_through(tmp_path):
    with pytest.raises(LoaderError) as info:
        load_document(write(tmp_path, "word.pdf", b"\xd0\xcf\x11\xe0 an old .doc file"))
    assert str(info.value) == "not a PDF: no %PDF header (is it another format renamed to .pdf?)"


def test_unexpected_exception_is_wrapped_without_its_message(tmp_path, monkeypatch, caplog):
    class Exploding:
        extensions = (".md",)

        def load(self, path, limits=None, data=None):
            raise ValueError("patient John Doe, SSN 123-45-6789")

    monkeypatch.setitem(loaders.LOADERS, ".md", Exploding())
    with (
        caplog.at_level(logging.WARNING, logger="ingest.loaders"),
        pytest.raises(LoaderError) as info,
    ):
        load_document(write(tmp_path, "Review of Priya Raman.md", b"# hi"))
    assert str(info.value) == "could not read Markdown file (ValueError)"
    assert type(info.value) is LoaderError
    assert isinstance(info.value.__cause__, ValueError)
    assert caplog.records and "123-45-6789" not in caplog.text
    assert "Priya Raman" not in caplog.text  # the file's name neither
    assert "ValueError" in caplog.text


def test_a_missing_or_unreadable_file_is_left_to_the_caller(tmp_path):
    # Not the content's fault: the pipeline words these ("file disappeared while being read")
    # and retries them at the next scan, which it does not do for a LoaderError.
    with pytest.raises(FileNotFoundError):
        load_document(tmp_path / "gone.pdf")


def test_directory_named_like_a_document_is_a_loader_error(tmp_path):
    folder = tmp_path / "folder.docx"
    folder.mkdir()
    (folder / "inner").write_text("x")
    with pytest.raises(LoaderError) as info:
        load_document(folder)
    assert "\n" not in str(info.value)
    assert str(info.value).startswith(("could not read DOCX file (", "corrupt DOCX: "))

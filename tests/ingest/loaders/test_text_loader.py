"""TextLoader: form-feed pages, encodings, binary detection."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.loaders import LoaderError
from ingest.loaders.text import TextLoader, decode_text


@pytest.fixture
def loader() -> TextLoader:
    return TextLoader()


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_form_feeds_split_pages_and_numbering_skips_blank_pages(tmp_path, loader):
    data = b"\n\n  Minutes of 3 May  \nItem one\r\n\fItem two\f \n \fItem four\n"
    doc = loader.load(write(tmp_path, "minutes.txt", data))
    assert doc.title == "Minutes of 3 May"
    assert [(page.number, page.text) for page in doc.pages] == [
        (1, "Minutes of 3 May\nItem one"),
        (2, "Item two"),
        (4, "Item four"),
    ]


def test_title_is_trimmed_to_200_chars(tmp_path, loader):
    doc = loader.load(write(tmp_path, "long.text", b"x" * 500 + b"\nrest"))
    assert doc.title == "x" * 200


def test_utf8_with_bom(tmp_path, loader):
    doc = loader.load(write(tmp_path, "bom.txt", "\ufeffNaïve café".encode()))
    assert doc.pages[0].text == "Naïve café"


def test_windows_1252_fallback(tmp_path, loader):
    doc = loader.load(write(tmp_path, "win.txt", "\u201cQuoted\u201d \u20ac5".encode("cp1252")))
    assert doc.pages[0].text == "\u201cQuoted\u201d \u20ac5"


def test_latin1_last_resort():
    # 0x81 is undefined in Windows-1252, so only Latin-1 can take it.
    assert decode_text(b"caf\xe9 \x81") == "café \x81"


def test_utf16_with_bom_is_text_not_binary(tmp_path, loader):
    doc = loader.load(write(tmp_path, "u16.txt", "Hello\fWorld".encode("utf-16")))
    assert [(page.number, page.text) for page in doc.pages] == [(1, "Hello"), (2, "World")]


def test_binary_file_is_refused(tmp_path, loader):
    path = write(tmp_path, "image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR secret")
    with pytest.raises(LoaderError) as info:
        loader.load(path)
    assert str(info.value) == "not a text file: contains binary data"


def test_nul_after_the_sniff_window_is_removed(tmp_path, loader):
    doc = loader.load(write(tmp_path, "late.txt", b"a" * 9000 + b"\x00b"))
    assert doc.pages[0].text == "a" * 9000 + "b"


def test_empty_and_blank(tmp_path, loader):
    with pytest.raises(LoaderError, match=r"^file is empty$"):
        loader.load(write(tmp_path, "e.txt", b""))
    with pytest.raises(LoaderError, match=r"^document has no text$"):
        loader.load(write(tmp_path, "b.txt", b" \n\f\t\n"))

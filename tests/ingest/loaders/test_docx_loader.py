"""DocxLoader against documents built with python-docx at test time."""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
import pytest
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.oxml.parser import OxmlElement

from ingest.loaders import LoaderError
from ingest.loaders.docx import DocxLoader

MC_WPS_V = (
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
    'xmlns:v="urn:schemas-microsoft-com:vml"'
)


@pytest.fixture
def loader() -> DocxLoader:
    return DocxLoader()


def save(document, path: Path) -> Path:
    document.save(str(path))
    return path


def rendered_break_run():
    """A run holding only a w:lastRenderedPageBreak, as Word writes when it saves."""
    run = OxmlElement("w:r")
    run.append(OxmlElement("w:lastRenderedPageBreak"))
    return run


def test_page_break_heading_and_table(tmp_path, loader):
    document = docx.Document()
    document.add_heading("Leave Policy", level=1)
    document.add_paragraph("Staff get 25 days.")
    document.add_page_break()
    document.add_paragraph("Intro on page two.")
    document.add_heading("Carry-over", level=2)
    table = document.add_table(rows=2, cols=2)
    for row, (key, value) in enumerate([("Grade", "Days"), ("Senior", "30")]):
        table.cell(row, 0).text = key
        table.cell(row, 1).text = value
    document.add_paragraph("After the table.")
    doc = loader.load(save(document, tmp_path / "policy.docx"))

    assert [page.number for page in doc.pages] == [1, 2]
    assert doc.pages[0].text == "Leave Policy\nStaff get 25 days."
    assert doc.pages[0].heading == "Leave Policy"
    # The table sits in document order, between the heading and the last paragraph.
    assert doc.pages[1].text == (
        "Intro on page two.\nCarry-over\nGrade: Senior; Days: 30\nAfter the table."
    )
    assert doc.pages[1].heading == "Carry-over"
    assert doc.title == "Leave Policy"


def test_core_properties_title_wins(tmp_path, loader):
    document = docx.Document()
    document.core_properties.title = "  HR Handbook\n 2024 "
    document.add_heading("Chapter 1", level=1)
    document.add_paragraph("Text.")
    assert loader.load(save(document, tmp_path / "h.docx")).title == "HR Handbook 2024"


def test_long_heading_title_is_trimmed(tmp_path, loader):
    document = docx.Document()
    document.add_heading("H" * 300, level=1)
    doc = loader.load(save(document, tmp_path / "long.docx"))
    assert doc.title == "H" * 200
    assert doc.pages[0].heading == "H" * 300


def test_title_falls_back_to_stem_and_page_without_heading(tmp_path, loader):
    document = docx.Document()
    document.add_paragraph("Just a plain note.")
    doc = loader.load(save(document, tmp_path / "plain-note.docx"))
    assert doc.title == "plain-note"
    assert doc.pages[0].heading is None


def test_rendered_page_breaks_split_pages(tmp_path, loader):
    document = docx.Document()
    document.add_paragraph("First page")
    paragraph = document.add_paragraph()
    paragraph._p.append(rendered_break_run())
    paragraph.add_run("Second page")
    mid = document.add_paragraph("end of two")
    run = mid.add_run()
    run._r.append(OxmlElement("w:lastRenderedPageBreak"))
    mid.add_run("start of three")
    doc = loader.load(save(document, tmp_path / "rendered.docx"))
    assert [(page.number, page.text) for page in doc.pages] == [
        (1, "First page"),
        (2, "Second page\nend of two"),
        (3, "start of three"),
    ]


def test_rendered_break_right_after_hard_break_is_the_same_page(tmp_path, loader):
    document = docx.Document()
    document.add_paragraph("One")
    document.add_page_break()
    after = document.add_paragraph()
    after._p.append(rendered_break_run())  # what Word saves after a hard break
    after.add_run("Two")
    document.add_page_break()
    document.add_page_break()  # a truly blank page three
    document.add_paragraph("Four")
    doc = loader.load(save(document, tmp_path / "double.docx"))
    assert [(page.number, page.text) for page in doc.pages] == [(1, "One"), (2, "Two"), (4, "Four")]


def test_page_break_before_paragraph_property(tmp_path, loader):
    document = docx.Document()
    document.add_paragraph("Cover")
    document.add_paragraph("Body").paragraph_format.page_break_before = True
    doc = loader.load(save(document, tmp_path / "pbb.docx"))
    assert [(page.number, page.text) for page in doc.pages] == [(1, "Cover"), (2, "Body")]


def test_text_box_is_read_once(tmp_path, loader):
    document = docx.Document()
    paragraph = document.add_paragraph("Before box")
    box = parse_xml(
        f"<w:r {nsdecls('w')} {MC_WPS_V}><mc:AlternateContent>"
        '<mc:Choice Requires="wps"><w:drawing><wps:txbx><w:txbxContent>'
        "<w:p><w:r><w:t>Boxed words</w:t></w:r></w:p>"
        "</w:txbxContent></wps:txbx></w:drawing></mc:Choice>"
        "<mc:Fallback><w:pict><v:textbox><w:txbxContent>"
        "<w:p><w:r><w:t>Boxed words</w:t></w:r></w:p>"
        "</w:txbxContent></v:textbox></w:pict></mc:Fallback>"
        "</mc:AlternateContent></w:r>"
    )
    paragraph._p.append(box)
    text = loader.load(save(document, tmp_path / "box.docx")).pages[0].text
    assert text.count("Boxed words") == 1


def test_tabs_and_line_breaks(tmp_path, loader):
    document = docx.Document()
    paragraph = document.add_paragraph("Name:")
    paragraph.add_run().add_tab()
    paragraph.add_run("Alice")
    paragraph.add_run().add_break()
    paragraph.add_run("Line two")
    text = loader.load(save(document, tmp_path / "tabs.docx")).pages[0].text
    assert text == "Name: Alice\nLine two"


def test_empty_file(tmp_path, loader):
    path = tmp_path / "empty.docx"
    path.write_bytes(b"")
    with pytest.raises(LoaderError, match=r"^file is empty$"):
        loader.load(path)


def test_not_a_zip(tmp_path, loader):
    path = tmp_path / "fake.docx"
    path.write_bytes(b"{\\rtf1 secret RTF body}")
    with pytest.raises(LoaderError) as info:
        loader.load(path)
    assert str(info.value) == "corrupt DOCX: could not be opened (BadZipFile)"


def test_zip_without_document_xml(tmp_path, loader):
    path = tmp_path / "hollow.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a word document")
    with pytest.raises(LoaderError) as info:
        loader.load(path)
    message = str(info.value)
    assert message.startswith("corrupt DOCX: could not be opened (") and message.endswith(")")
    assert "hello" not in message


def test_document_without_text(tmp_path, loader):
    document = docx.Document()
    document.add_paragraph("   ")
    document.add_page_break()
    document.add_table(rows=1, cols=2)
    with pytest.raises(LoaderError, match=r"^document has no text$"):
        loader.load(save(document, tmp_path / "blank.docx"))


def test_deleted_tracked_text_is_ignored(tmp_path, loader):
    document = docx.Document()
    paragraph = document.add_paragraph("Kept")
    deleted = parse_xml(
        f'<w:del {nsdecls("w")} w:id="1" w:author="a"><w:r><w:delText> removed</w:delText></w:r>'
        "</w:del>"
    )
    paragraph._p.append(deleted)
    assert qn("w:delText") in {el.tag for el in paragraph._p.iter()}
    assert loader.load(save(document, tmp_path / "tracked.docx")).pages[0].text == "Kept"

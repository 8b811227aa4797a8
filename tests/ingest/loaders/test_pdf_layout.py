"""A PDF page laid out in fixed-width columns from PDFium's glyph positions
(ingest/loaders/pdf_layout.py): the text the table reader (pdf_tables.py) splits into cells."""

from __future__ import annotations

import re

import pypdf
import pypdfium2
import pytest
from fpdf import FPDF

from ingest.loaders import load_document
from ingest.loaders.pdf_layout import layout_text
from tests.ingest.loaders.test_pdf_tables import _statement_pdf


def _layout(pdf: FPDF) -> list[str]:
    document = pypdfium2.PdfDocument(bytes(pdf.output()))
    try:
        textpage = document[0].get_textpage()
        return layout_text(textpage).split("\n")
    finally:
        document.close()


def _cells(line: str) -> list[tuple[str, int, int]]:
    """(text, start, end) of each run split at two spaces, as the table reader splits."""
    return [(m.group(0), m.start(), m.end()) for m in re.finditer(r"\S+(?: \S+)*", line)]


def _statement_lines(tmp_path) -> list[str]:
    """The loader's text of the table reader's statement (test_pdf_tables.py), line by line."""
    path = tmp_path / "statement.pdf"
    path.write_bytes(_statement_pdf())
    return load_document(path).pages[0].text.split("\n")


def _page() -> FPDF:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    return pdf


def test_a_row_is_a_label_and_right_aligned_figures_in_columns():
    pdf = _page()
    for label, first, second in [("Net sales", "245,241", "63,355"), ("Services", "5,589", "7")]:
        pdf.cell(70, 5, label)
        pdf.cell(40, 5, first, align="R")
        pdf.cell(40, 5, second, align="R", new_x="LMARGIN", new_y="NEXT")
    rows = [_cells(line) for line in _layout(pdf) if line.strip()]
    assert [[text for text, *_ in row] for row in rows] == [
        ["Net sales", "245,241", "63,355"],
        ["Services", "5,589", "7"],
    ]
    # right-aligned figures of different lengths end in the same column, within the reader's
    # tolerance (pdf_tables._COLUMN_TOLERANCE)
    for column in (1, 2):
        assert abs(rows[0][column][2] - rows[1][column][2]) <= 3


def test_words_of_a_sentence_are_one_cell_with_single_spaces():
    pdf = _page()
    pdf.cell(0, 5, "The figures are in millions of dollars.")
    assert [text for text, *_ in _cells(_layout(pdf)[0])] == [
        "The figures are in millions of dollars."
    ]


def test_letters_set_apart_still_make_words():
    """Tracked type ("letter-spacing") spreads every letter; only the wider gaps part words."""
    pdf = _page()
    pdf.set_char_spacing(2)  # 0.2 em at 10 points: wider than a word gap without tracking
    pdf.cell(0, 5, "Compania Sudamericana de Vapores")
    assert [text for text, *_ in _cells(_layout(pdf)[0])] == ["Compania Sudamericana de Vapores"]


def test_headings_set_a_little_apart_share_one_line():
    pdf = _page()
    pdf.set_xy(80, 20)
    pdf.cell(40, 5, "Three Months Ended", align="C")
    pdf.set_xy(130, 22)  # 2 points lower: another run of the same heading line
    pdf.cell(40, 5, "Nine Months Ended", align="C")
    lines = [line for line in _layout(pdf) if line.strip()]
    assert len(lines) == 1
    assert [text for text, *_ in _cells(lines[0])] == ["Three Months Ended", "Nine Months Ended"]


def test_a_figure_and_the_next_columns_currency_sign_are_two_cells_however_close():
    pdf = _page()
    pdf.cell(40, 5, "Services")
    pdf.cell(20, 5, "19,604", align="R")
    pdf.cell(8, 5, "$")
    pdf.cell(20, 5, "17,486", align="R")
    texts = [text for text, *_ in _cells(_layout(pdf)[0])]
    assert texts == ["Services", "19,604", "$", "17,486"]


def test_rotated_text_is_left_out():
    pdf = _page()
    pdf.cell(40, 5, "Revenue")
    pdf.cell(20, 5, "100", align="R", new_x="LMARGIN", new_y="NEXT")
    with pdf.rotation(90, x=150, y=60):
        pdf.text(150, 60, "DRAFT COPY")
    text = "\n".join(_layout(pdf))
    assert "Revenue" in text and "100" in text
    assert "DRAFT" not in text


def test_blank_lines_stand_for_vertical_space():
    pdf = _page()
    pdf.set_xy(10, 20)
    pdf.cell(40, 5, "Above")
    pdf.set_xy(10, 50)  # about eight lines of 10-point type lower
    pdf.cell(40, 5, "Below")
    lines = _layout(pdf)
    assert lines[0].strip() == "Above" and lines[-1].strip() == "Below"
    assert 3 <= len(lines) - 2 <= 5  # the reader's limit on blank lines between rows is 3


def test_a_table_page_is_read_without_pypdf_layout_mode(tmp_path, monkeypatch):
    """The loader lays out table pages from PDFium (pypdf's layout mode cost ~10x as much)."""
    original = pypdf.PageObject.extract_text

    def no_layout_mode(self, *args, **kwargs):
        if kwargs.get("extraction_mode") == "layout":
            raise AssertionError("pypdf's layout mode was used")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pypdf.PageObject, "extract_text", no_layout_mode)
    assert (
        "Services; Three Months Ended June 25, 2022: $19,604; "
        "Three Months Ended June 26, 2021: $17,486"
    ) in _statement_lines(tmp_path)


def test_where_pdfium_cannot_read_a_page_pypdf_lays_out_its_table(tmp_path, monkeypatch):
    import ingest.loaders.pdf as pdf_loader

    monkeypatch.setattr(pdf_loader._PdfiumText, "read", lambda self, index: None)
    assert (
        "Total net sales; Three Months Ended June 25, 2022: $82,959; "
        "Three Months Ended June 26, 2021: $81,434"
    ) in _statement_lines(tmp_path)


@pytest.mark.parametrize("size", [6, 14])
def test_the_layout_does_not_depend_on_the_type_size(size):
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=size)
    pdf.cell(90, 8, "Operating income")
    pdf.cell(40, 8, "23,076", align="R")
    pdf.cell(40, 8, "(1,100)", align="R")
    texts = [text for text, *_ in _cells(_layout(pdf)[0])]
    assert texts == ["Operating income", "23,076", "(1,100)"]

"""PDF tables keep their headers: each row of a statement becomes one line naming its columns
(ingest/loaders/pdf_tables.py), as DOCX and HTML rows do; the rest of the page stays text."""

from __future__ import annotations

from fpdf import FPDF

from ingest.loaders import load_document
from ingest.loaders.pdf_tables import looks_tabular, table_text

PROSE = (
    "Net sales by category were as follows. The figures are in millions of dollars and are "
    "unaudited for the interim periods shown."
)
ROWS = [
    ("Services", "$ 19,604", "$ 17,486"),
    ("Mac", "7,382", "8,235"),
    ("Wearables, Home and Accessories", "8,084", "(8,775)"),
    ("Total net sales", "$ 82,959", "$ 81,434"),
]


def _statement_pdf() -> bytes:
    """A filing's table: a period heading over two columns, the dates, "$" set apart from
    right-aligned figures, after a paragraph of text."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    pdf.multi_cell(0, 5, PROSE)
    pdf.ln(4)
    pdf.set_x(90)
    pdf.cell(80, 5, "Three Months Ended", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(90)
    pdf.cell(40, 5, "June 25, 2022", align="C")
    pdf.cell(40, 5, "June 26, 2021", align="C", new_x="LMARGIN", new_y="NEXT")
    for label, *values in ROWS:
        pdf.cell(80, 5, label)
        for value in values:
            currency, _, figure = value.rpartition(" ")
            pdf.cell(8, 5, currency)
            pdf.cell(32, 5, figure, align="R")
        pdf.ln(5)
    return bytes(pdf.output())


def test_each_row_of_a_pdf_table_names_its_columns(tmp_path):
    path = tmp_path / "statement.pdf"
    path.write_bytes(_statement_pdf())
    text = load_document(path).pages[0].text
    lines = text.split("\n")
    assert (
        "Services; Three Months Ended June 25, 2022: $19,604; "
        "Three Months Ended June 26, 2021: $17,486"
    ) in lines
    assert (
        "Wearables, Home and Accessories; Three Months Ended June 25, 2022: 8,084; "
        "Three Months Ended June 26, 2021: (8,775)"
    ) in lines
    assert (
        "Total net sales; Three Months Ended June 25, 2022: $82,959; "
        "Three Months Ended June 26, 2021: $81,434"
    ) in lines
    assert " ".join(PROSE.split()) in " ".join(text.split())  # the text around it is kept
    assert "June 25, 2022 June 26, 2021" not in text  # header lines: every row repeats them


def test_a_group_label_names_the_indented_rows_under_it():
    layout = "\n".join(
        [
            "                              Three Months Ended      Nine Months Ended",
            "                                    2022                    2022",
            "AWS",
            "    Net sales                    $ 20,538              $ 58,718",
            "    Operating income                5,403                 17,636",
            "Consolidated",
            "    Net sales                    $127,101              $364,779",
        ]
    )
    lines = table_text(layout).split("\n")
    assert "AWS — Net sales; Three Months Ended 2022: $20,538; Nine Months Ended 2022: $58,718" in (
        lines
    )
    assert (
        "Consolidated — Net sales; Three Months Ended 2022: $127,101; "
        "Nine Months Ended 2022: $364,779" in lines
    )


def test_text_without_a_table_is_left_alone():
    prose = "We had 3 offices in 2021 and 5 in 2022.\nThe team grew from 10 to 12 people."
    assert not looks_tabular(prose)
    assert table_text(prose) is None
    # Figures without any header above them: no column names to give, the plain text stays.
    assert table_text("Net sales   1,000   2,000\nCosts   500   600") is None

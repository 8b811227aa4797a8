"""Tables keep their headers: each DOCX and HTML table row becomes one line that names its
columns, so a figure is found with what it measures (ingest/loaders/tables.py)."""

from __future__ import annotations

import io

import docx
from docx.oxml import OxmlElement

from ingest.loaders import load_document
from ingest.loaders.tables import MAX_SPAN, table_lines

# A financial statement as filings lay it out: two heading rows (the period over two columns,
# then the dates), "$" in cells of their own, an empty first heading cell.
SEC_ROWS = [
    [("", 1), ("Three Months Ended", 4)],
    [("", 1), ("September 24, 2022", 2), ("September 25, 2021", 2)],
    [("Services", 1), ("$", 1), ("19,188", 1), ("$", 1), ("18,277", 1)],
    [("Mac", 1), ("", 1), ("11,508", 1), ("", 1), ("9,178", 1)],
]
SEC_LINES = [
    "Services; Three Months Ended September 24, 2022: $19,188; "
    "Three Months Ended September 25, 2021: $18,277",
    "Mac; Three Months Ended September 24, 2022: 11,508; "
    "Three Months Ended September 25, 2021: 9,178",
]


def test_rows_name_their_columns():
    assert [line for line in table_lines(SEC_ROWS) if line] == SEC_LINES
    grades = [[("Grade", 1), ("Days", 1)], [("Senior", 1), ("30", 1)], [("Junior", 1), ("25", 1)]]
    assert table_lines(grades) == ["", "Grade: Senior; Days: 30", "Grade: Junior; Days: 25"]


def test_equal_neighbouring_values_are_both_kept():
    rows = [[("Item", 1), ("2022", 1), ("2021", 1)], [("Refunds", 1), ("0", 1), ("0", 1)]]
    assert table_lines(rows)[1] == "Item: Refunds; 2022: 0; 2021: 0"


def test_one_column_and_one_row_tables_stay_plain():
    assert table_lines([[("a", 1)], [("b", 1)]]) == ["a", "b"]
    assert table_lines([[("a", 1), ("b", 1)]]) == ["a | b"]


def _docx_table(rows: list[list[str]], spans: dict[tuple[int, int], int]) -> bytes:
    document = docx.Document()
    document.add_paragraph("Net sales by category")
    width = max(sum(spans.get((r, c), 1) for c in range(len(row))) for r, row in enumerate(rows))
    table = document.add_table(rows=len(rows), cols=width)
    for r, row in enumerate(rows):
        column = 0
        for c, text in enumerate(row):
            cell = table.cell(r, column)
            columns = spans.get((r, c), 1)
            if columns > 1:
                cell = cell.merge(table.cell(r, column + columns - 1))
            cell.text = text
            column += columns
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_docx_table_rows_keep_their_headers(tmp_path):
    rows = [[text for text, _ in row] for row in SEC_ROWS]
    data = _docx_table(rows, {(0, 1): 4, (1, 1): 2, (1, 2): 2})
    text = load_document(tmp_path / "q3.docx", data=data).pages[0].text
    assert text.splitlines() == ["Net sales by category", *SEC_LINES]


def test_docx_rows_marked_as_header_rows_name_the_columns(tmp_path):
    document = docx.Document()
    table = document.add_table(rows=3, cols=2)
    for r, (a, b) in enumerate([("Region", "Revenue"), ("Quarter", "Q3"), ("Europe", "7,000")]):
        table.cell(r, 0).text, table.cell(r, 1).text = a, b
    for row in table.rows[:2]:  # "repeat as header row" on both
        properties = row._tr.get_or_add_trPr()
        properties.append(OxmlElement("w:tblHeader"))
    out = io.BytesIO()
    document.save(out)
    text = load_document(tmp_path / "r.docx", data=out.getvalue()).pages[0].text
    assert text == "Region Quarter: Europe; Revenue Q3: 7,000"


def test_html_table_rows_keep_their_headers(tmp_path):
    html = (
        "<h1>Apple net sales</h1><table>"
        '<tr><td></td><td colspan="4">Three Months Ended</td></tr>'
        '<tr><td></td><td colspan="2">September 24, 2022</td>'
        '<td colspan="2">September 25, 2021</td></tr>'
        "<tr><td>Services</td><td>$</td><td>19,188</td><td>$</td><td>18,277</td></tr>"
        "<tr><td>Mac</td><td></td><td>11,508</td><td></td><td>9,178</td></tr>"
        "</table><p>After.</p>"
    )
    text = load_document(tmp_path / "q3.html", data=html.encode()).pages[0].text
    assert text.splitlines() == ["Apple net sales", "", *SEC_LINES, "", "After."]


def test_html_th_header_and_a_huge_colspan(tmp_path):
    html = (
        "<table><thead><tr><th>Product</th><th>Units</th></tr></thead>"
        '<tbody><tr><td>Widget</td><td colspan="100000000">12<script>x=1</script></td></tr>'
        "</tbody></table>"
    )
    text = load_document(tmp_path / "p.html", data=html.encode()).pages[0].text
    assert text == "Product: Widget; Units: 12"
    assert MAX_SPAN < 1000

"""A title that means something: the shared rules (ingest/loaders/titles.py), and each loader
replacing a metadata title that is a filing number, a tool's placeholder or a file name."""

from __future__ import annotations

import io

import docx
import pytest
from fpdf import FPDF

from ingest.loaders import load_document
from ingest.loaders.titles import choose_title, first_title_line, looks_like_title


@pytest.mark.parametrize(
    "text",
    [
        "0000320193-23-000077",  # an SEC accession number
        "Microsoft Word - minutes.doc",
        "Untitled document",
        "Presentation1",
        "scan_0001.pdf",
        "Q3",
        "",
        "2023-10-27 v2",
        "quarterly-report",  # the file's own stem
    ],
)
def test_not_a_title(text):
    assert not looks_like_title(text, stem="quarterly-report")


@pytest.mark.parametrize(
    "text",
    [
        "Apple Inc.",
        "10-Q - 10/28/2022 - Intel Corporation",
        "Form 10-Q for Microsoft Corp filed 10/24/2022",
        "Travel Policy 2024",
    ],
)
def test_a_title(text):
    assert looks_like_title(text, stem="quarterly-report")


def test_choose_title_takes_the_first_candidate_that_looks_like_one():
    assert choose_title("0000320193-23-000077", ["", "123", "Apple Inc."], "x") == "Apple Inc."
    assert choose_title("  Travel\n Policy ", ["Apple Inc."], "x") == "Travel Policy"
    assert choose_title(None, [None, "42"], "plain-note") == "plain-note"


def test_first_title_line_skips_numbers_and_blank_lines():
    assert first_title_line("\n  0000320193\n\n--\nAcme Holdings Ltd\nmore") == "Acme Holdings Ltd"
    assert first_title_line("1\n2\n3") is None


def _pdf(title: str) -> bytes:
    pdf = FPDF()
    pdf.set_title(title)
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    pdf.multi_cell(
        0,
        6,
        "UNITED STATES SECURITIES AND EXCHANGE COMMISSION\nFORM 10-Q",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("Helvetica", "B", size=20)
    pdf.multi_cell(0, 10, "Quillfeather Holdings Inc.", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    pdf.multi_cell(0, 6, "Revenue rose in the quarter. " * 20, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def test_pdf_filing_number_title_is_replaced_by_the_prominent_line(tmp_path):
    document = load_document(
        tmp_path / "0000320193-23-000077.pdf", data=_pdf("0000320193-23-000077")
    )
    assert document.title == "Quillfeather Holdings Inc."


def test_pdf_metadata_title_that_looks_like_one_is_kept(tmp_path):
    document = load_document(tmp_path / "q.pdf", data=_pdf("Quarterly Report Q3 2023"))
    assert document.title == "Quarterly Report Q3 2023"


def test_docx_tool_placeholder_title_is_replaced_by_the_first_heading(tmp_path):
    document = docx.Document()
    document.core_properties.title = "Microsoft Word - hb_final.doc"
    document.add_heading("Employee Handbook", level=1)
    document.add_paragraph("Body.")
    out = io.BytesIO()
    document.save(out)
    loaded = load_document(tmp_path / "hb.docx", data=out.getvalue())
    assert loaded.title == "Employee Handbook"


def test_html_file_name_title_is_replaced_by_the_first_h1(tmp_path):
    html = b"<title>report_final.htm</title><h1>Annual Safety Review</h1><p>Text.</p>"
    assert load_document(tmp_path / "r.html", data=html).title == "Annual Safety Review"

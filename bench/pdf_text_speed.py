"""PDF text extraction speed (issue 19): pypdf's plain text against pypdfium2's (PDFium) on the
same files, alternately in one process, plus what the table pass (pdf_tables.py: pypdf's
layout mode on pages that look tabular) adds per page.

    python bench/pdf_text_speed.py [FOLDER] [--rounds 2]

Opening the file is counted in each; only the text of each page, no title or cleanup.
"""

from __future__ import annotations

import argparse
import io
import time
from pathlib import Path

import pypdfium2
from pypdf import PdfReader

from ingest.loaders.pdf_tables import looks_tabular, table_text


def _pypdf(data: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(data), strict=False)
    return [page.extract_text() or "" for page in reader.pages]


def _pdfium(data: bytes) -> list[str]:
    pdf = pypdfium2.PdfDocument(data)
    try:
        texts = []
        for page in pdf:
            textpage = page.get_textpage()
            texts.append(textpage.get_text_range())
            textpage.close()
            page.close()
        return texts
    finally:
        pdf.close()


def _tables(data: bytes, plain: list[str]) -> tuple[int, int]:
    """Pages read again in layout mode, and pages where a table with headers was found."""
    reader = PdfReader(io.BytesIO(data), strict=False)
    tabular = found = 0
    for page, text in zip(reader.pages, plain, strict=True):
        if looks_tabular(text):
            tabular += 1
            found += table_text(page.extract_text(extraction_mode="layout") or "") is not None
    return tabular, found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", nargs="?", default="../shared/eval/sec-10q-2022q3", type=Path)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    files = [p.read_bytes() for p in sorted(args.folder.glob("*.pdf"))]
    seconds = {"pypdf": 0.0, "pypdfium2": 0.0, "tables (pypdf layout)": 0.0}
    pages = tabular = found = 0
    for _ in range(args.rounds):
        pages = tabular = found = 0
        for data in files:
            started = time.process_time()
            plain = _pypdf(data)
            seconds["pypdf"] += time.process_time() - started
            started = time.process_time()
            _pdfium(data)
            seconds["pypdfium2"] += time.process_time() - started
            started = time.process_time()
            t, f = _tables(data, plain)
            seconds["tables (pypdf layout)"] += time.process_time() - started
            pages, tabular, found = pages + len(plain), tabular + t, found + f
    print(f"{len(files)} files, {pages} pages ({tabular} look tabular, {found} with a table)")
    for name, total in seconds.items():
        per = total / args.rounds
        ms = 1000 * per / pages
        print(f"{name:24s} {per:6.2f} CPU s  {pages / per:6.1f} pages/s  {ms:5.0f} ms/page")


if __name__ == "__main__":
    main()

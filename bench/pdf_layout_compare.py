"""PDFium's column layout (ingest/loaders/pdf_layout.py) against pypdf's layout mode, the
text the table reader (ingest/loaders/pdf_tables.py) read before (issue 19): on every page
whose plain text looks like a table, both layouts go through `table_text`, and the table rows
each gives are compared, with the time each layout took.

    python bench/pdf_layout_compare.py [FOLDER] [--show N]

Prints one JSON line: pages, pages whose rows are the same, rows of each and rows in common,
pages where no table with headers was found by each, and seconds of each layout.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pypdfium2
from pypdf import PdfReader

from ingest.loaders.pdf_layout import layout_text
from ingest.loaders.pdf_tables import looks_tabular, table_text


def _rows(text: str | None) -> set[str]:
    """The lines the table reader made: a label, then "column: value" pairs after "; "."""
    return {line.strip() for line in (text or "").split("\n") if "; " in line and ": " in line}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", nargs="?", default="../shared/eval/sec-10q-2022q3", type=Path)
    parser.add_argument("--show", type=int, default=0, help="print the rows of N differing pages")
    args = parser.parse_args()
    counts = dict.fromkeys(
        ("pages", "same_pages", "rows_pypdf", "rows_pdfium", "rows_common"), 0
    ) | {"no_table_pypdf": 0, "no_table_pdfium": 0, "seconds_pypdf": 0.0, "seconds_pdfium": 0.0}
    shown = 0
    for path in sorted(args.folder.glob("*.pdf")):
        document, reader = pypdfium2.PdfDocument(path), PdfReader(path)
        for index in range(len(document)):
            textpage = document[index].get_textpage()
            if not looks_tabular(textpage.get_text_range()):
                continue
            started = time.perf_counter()
            old = reader.pages[index].extract_text(extraction_mode="layout")
            counts["seconds_pypdf"] += time.perf_counter() - started
            started = time.perf_counter()
            new = layout_text(textpage)
            counts["seconds_pdfium"] += time.perf_counter() - started
            old_tables, new_tables = table_text(old), table_text(new)
            old_rows, new_rows = _rows(old_tables), _rows(new_tables)
            counts["pages"] += 1
            counts["same_pages"] += old_rows == new_rows
            counts["rows_pypdf"] += len(old_rows)
            counts["rows_pdfium"] += len(new_rows)
            counts["rows_common"] += len(old_rows & new_rows)
            counts["no_table_pypdf"] += old_tables is None
            counts["no_table_pdfium"] += new_tables is None
            if old_rows != new_rows and shown < args.show:
                shown += 1
                print(f"== {path.name}, page {index + 1}")
                print("-- pypdf only:\n" + "\n".join(sorted(old_rows - new_rows)))
                print("-- pdfium only:\n" + "\n".join(sorted(new_rows - old_rows)))
        document.close()
    counts["seconds_pypdf"] = round(counts["seconds_pypdf"], 2)
    counts["seconds_pdfium"] = round(counts["seconds_pdfium"], 2)
    print(json.dumps(counts))


if __name__ == "__main__":
    main()

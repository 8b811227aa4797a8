"""What PDF table rows with their headers cost the loader (issue 17): every PDF of a folder
loaded with the table pass (ingest/loaders/pdf_tables.py) and without it (the plain text of
every page), alternately in one process, so both see the same machine.

    python bench/pdf_tables_cost.py [../shared/eval/sec-10q-2022q3] [--rounds 2]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import ingest.loaders.pdf as pdf
from ingest.loaders import load_document


def _load_all(files: list[Path], tables: bool) -> tuple[float, int, int]:
    """(seconds, pages, pages whose text came from the table pass)."""
    real = pdf.looks_tabular
    tabular = 0

    def counting(text: str) -> bool:
        nonlocal tabular
        found = real(text)
        tabular += found
        return found

    pdf.looks_tabular = counting if tables else (lambda text: False)
    try:
        started = time.perf_counter()
        pages = sum(len(load_document(path).pages) for path in files)
        return time.perf_counter() - started, pages, tabular
    finally:
        pdf.looks_tabular = real


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", nargs="?", default="../shared/eval/sec-10q-2022q3", type=Path)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    files = sorted(args.folder.glob("*.pdf"))
    _load_all(files[:1], True)  # imports and fonts warmed before timing
    totals = {False: 0.0, True: 0.0}
    for _ in range(args.rounds):
        for tables in (False, True):
            seconds, pages, tabular = _load_all(files, tables)
            totals[tables] += seconds
    per_page = {k: 1000 * v / (pages * args.rounds) for k, v in totals.items()}
    print(f"{len(files)} files, {pages} pages, {tabular} read again for tables")
    print(f"plain text:  {per_page[False]:.0f} ms/page")
    print(f"with tables: {per_page[True]:.0f} ms/page (+{per_page[True] - per_page[False]:.0f})")


if __name__ == "__main__":
    main()

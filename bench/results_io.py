"""What every benchmark script records beside its figures, and how it writes them."""

from __future__ import annotations

import json
import os
from pathlib import Path


def load_average() -> list[float]:
    """The 1/5/15-minute load: figures taken on a busy machine must say so."""
    return [round(x, 2) for x in os.getloadavg()]


def write_results(path: Path, results: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")

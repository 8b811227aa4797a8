"""How the quote features were weighed, fast: every squad-dev question quoted from a stand-in
for retrieval, the current SentenceQuotes against the one of a given git revision.

`rag eval quotes` builds a store (~20 min of ingest on the shared machine) and retrieves for
every question (~1 s each); tuning the weights that way was too slow. Here each sentence of
the 646 squad-dev passages is embedded once (the vectors are cached in --cache), and a
question's passages are the 3 whose mean sentence vector is closest to it: a stand-in for the
real hybrid retrieval, worse (the answer is in them for 84.6 % of the questions against the
service's 87.0 % on the first 500), so the figures are for comparing settings, not the
service's figure (that is `rag eval quotes`).

    python bench/quotes_tuning.py --dataset ../shared/eval/squad-dev --before f47694d

With --cache pointing at the file bench/quotes_service_passages.py writes, the questions are
quoted from the passages the service really retrieved instead (the third round's tuning).
"""

from __future__ import annotations

import argparse
import importlib.util
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rag.config import get_settings  # noqa: E402
from rag.evaluation.answers import contains_answer, load_answers  # noqa: E402
from rag.evaluation.retrieval import load_beir  # noqa: E402
from rag.quotes import SentenceQuotes  # noqa: E402
from rag.text_units import units  # noqa: E402


def stand_in(dataset: Path, cache: Path) -> tuple[list, dict]:
    """[(question, references, passages)], {text: vector} with the questions' vectors."""
    if cache.is_file():
        return pickle.loads(cache.read_bytes())
    from rag.embed import Embedder

    answers = load_answers(dataset)
    corpus, queries, _ = load_beir(dataset, "test")
    asked = [q for q in queries if q in answers]
    docs = [f"{title}\n\n{text}" for title, text in corpus.values()]
    texts = sorted({d[u.start : u.end] for d in docs for u in units(d)})
    embedder = Embedder(get_settings().embedding)
    vectors = dict(zip(texts, embedder.embed(texts), strict=True))
    questions = embedder.embed_query([queries[q] for q in asked])
    means = np.array([np.mean([vectors[d[u.start : u.end]] for u in units(d)], 0) for d in docs])
    means /= np.linalg.norm(means, axis=1, keepdims=True)
    top = np.argsort(-(questions @ means.T), axis=1)[:, :3]
    rows = [(queries[q], answers[q], [docs[j] for j in top[i]]) for i, q in enumerate(asked)]
    vectors.update({("question", queries[q]): questions[i] for i, q in enumerate(asked)})
    vectors.update(zip([("tokens", d) for d in docs], embedder.embed_tokens(docs), strict=True))
    asked_texts = [queries[q] for q in asked]
    vectors.update(
        zip(
            [("question tokens", q) for q in asked_texts],
            embedder.embed_query_tokens(asked_texts),
            strict=True,
        )
    )
    cache.write_bytes(pickle.dumps((rows, vectors)))
    return rows, vectors


class CachedEmbedder:
    def __init__(self, vectors: dict) -> None:
        self.vectors = vectors

    def embed(self, texts):
        return np.array([self.vectors[t] for t in texts])

    def embed_query(self, texts):
        return np.array([self.vectors[("question", t)] for t in texts])

    def embed_tokens(self, texts):
        """Saved by bench/quotes_service_passages.py (a passage past the window is not)."""
        return [self.vectors[("tokens", t)] for t in texts]

    def embed_query_tokens(self, texts):
        return [self.vectors[("question tokens", t)] for t in texts]


def quotes_of(revision: str):
    """rag/quotes.py as it was at `revision` (its own imports from today's tree)."""
    source = subprocess.run(
        ["git", "show", f"{revision}:rag/quotes.py"], cwd=REPO, check=True, capture_output=True
    ).stdout
    path = Path(tempfile.mkdtemp()) / "quotes_before.py"
    path.write_bytes(source)
    spec = importlib.util.spec_from_file_location("quotes_before", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["quotes_before"] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module.SentenceQuotes


def top_contains(finder, rows, indices) -> float:
    hits = 0
    for i in indices:
        question, references, passages = rows[i]
        quotes = finder.find(question, passages)
        hits += bool(quotes) and contains_answer(quotes[0].text, references)
    return hits / len(indices)


def top_shape(finder, rows) -> str:
    """How long the top quotes are: the share of two sentences, the mean words."""
    tops = [q[0] for q in (finder.find(question, passages) for question, _, passages in rows) if q]
    pairs = sum(len(units(top.text)) > 1 for top in tops) / len(tops)
    words = sum(len(top.text.split()) for top in tops) / len(tops)
    return f"top quote 2+ sentences {100 * pairs:.1f} %, {words:.1f} words"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--before", default="f47694d", help="git revision to compare with")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/quotes-tuning.pkl"))
    args = parser.parse_args()
    rows, vectors = stand_in(args.dataset, args.cache)
    n = len(rows)
    ceiling = sum(any(contains_answer(p, r[1]) for p in r[2]) for r in rows) / n
    print(f"{n} questions; a stand-in passage contains a reference: {100 * ceiling:.1f} %")
    sets = {
        "even": range(0, n, 2),
        "odd": range(1, n, 2),
        "first 500": range(500),
        "all": range(n),
    }
    finders = {
        f"before ({args.before})": quotes_of(args.before)(CachedEmbedder(vectors)),
        "now": SentenceQuotes(CachedEmbedder(vectors)),
    }
    for name, finder in finders.items():
        figures = ", ".join(
            f"{label} {100 * top_contains(finder, rows, ids):.2f} %" for label, ids in sets.items()
        )
        print(f"{name}: top quote contains a reference: {figures}; {top_shape(finder, rows)}")


if __name__ == "__main__":
    main()

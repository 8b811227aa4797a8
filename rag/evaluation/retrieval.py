"""`rag eval retrieval`: ranking quality of each retrieval mode on a BEIR dataset.

A fresh store is built from the corpus (rag/evaluation/store.py: the normal ingest pipeline in
a temporary data dir). Every query is then ranked in each mode; a corpus document ranks where
its best chunk does. Personal-data removal is off by default (BEIR datasets are public);
--anonymize turns it on.
"""

from __future__ import annotations

import csv
import json
import time
from collections import defaultdict
from pathlib import Path

from rich.console import Console
from rich.table import Table

from rag.config import Settings
from rag.evaluation.metrics import METRICS, documents_from_chunks
from rag.evaluation.store import eval_store, load_corpus

MODES = ("dense", "fulltext", "hybrid")
DEPTH = 100  # documents ranked per query: enough for Recall@100


def load_beir(directory: Path, split: str = "test"):
    """(corpus {id: (title, text)}, queries {id: text} in file order, qrels {qid: {doc: grade}})."""
    corpus = load_corpus(directory)
    queries = {}
    with (directory / "queries.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                queries[str(row["_id"])] = row["text"]
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    with (directory / "qrels" / f"{split}.tsv").open(encoding="utf-8") as handle:
        reader = csv.reader(handle, delimiter="\t")
        next(reader)  # header: query-id, corpus-id, score
        for row in reader:
            if len(row) >= 3:
                qrels[row[0]][row[1]] = int(row[2])
    return corpus, queries, dict(qrels)


def run_retrieval_eval(
    dataset: Path,
    settings: Settings,
    modes: list[str],
    limit: int | None = None,
    candidates: int = DEPTH,
    anonymize: bool = False,
    split: str = "test",
    log: Console | None = None,
) -> dict:
    """Build a fresh store from the dataset and measure each mode; returns the JSON payload."""
    from rag.retrieve import Retriever

    log = log or Console(stderr=True)
    unknown = [m for m in modes if m not in MODES]
    if unknown or not modes:
        raise ValueError(f"unknown mode(s) {unknown}; choose from {', '.join(MODES)}")
    if not (dataset / "corpus.jsonl").is_file():
        raise ValueError(f"no corpus.jsonl in {dataset}")
    corpus, queries, qrels = load_beir(dataset, split)
    judged = [qid for qid in queries if qrels.get(qid)]
    if limit is not None:
        judged = judged[:limit]
    log.print(
        f"{len(corpus)} documents, {len(judged)} judged queries; "
        f"personal-data removal: {pii_state(anonymize)}"
    )
    retrieval = settings.retrieval.model_copy(update={"candidates": max(candidates, 1)})
    settings = settings.model_copy(update={"retrieval": retrieval})
    with eval_store(corpus, settings, anonymize, log) as store:
        service = store.service
        retriever = Retriever(service.session_factory, service.index, service.embedder, retrieval)
        retriever.rank("warm-up", 1)  # load the index and models before timing
        backend = service.embedder.settings.backend  # what `auto` took on this machine
        results = {}
        per_query: dict[str, dict[str, dict]] = {}
        for mode in modes:
            per_query[mode] = {}
            totals = dict.fromkeys(METRICS, 0.0)
            seconds = 0.0
            for qid in judged:
                tick = time.perf_counter()
                # As production searches: the question pseudonymized when the store is, and
                # its hidden words as typed, for ranking (RagService.typed_question).
                question, typed = queries[qid], None
                if anonymize:
                    pseudonymized = service.pseudonymize_question(question)
                    question = pseudonymized.text
                    typed = service.typed_question(pseudonymized)
                hits = retriever.rank(question, retrieval.candidates, mode, typed=typed)
                seconds += time.perf_counter() - tick
                ranked = documents_from_chunks([store.names[hit.path] for hit in hits])[:DEPTH]
                scores = {name: metric(ranked, qrels[qid]) for name, metric in METRICS.items()}
                for name, score in scores.items():
                    totals[name] += score
                # Question by question, so two runs (anonymization off / on) can be compared
                # where they differ (bench/per_question_diff.py); the top documents show what
                # won instead.
                per_query[mode][qid] = {
                    "nDCG@10": round(scores["nDCG@10"], 4),
                    "top": ranked[:3],
                }
            count = max(len(judged), 1)
            results[mode] = {name: total / count for name, total in totals.items()}
            results[mode]["ms/query"] = 1000 * seconds / count
            log.print(f"{mode}: done")
    return {
        "dataset": str(dataset),
        "split": split,
        "documents": len(corpus),
        "indexed_documents": store.indexed,
        "chunks": store.chunks,
        "queries": len(judged),
        "personal_data_removal": anonymize,
        "retrieval": retrieval.model_dump(),
        "embedding_model": settings.embedding.model,
        "embedding_backend": backend,
        "results": results,
        "per_query": per_query,
    }


def pii_state(anonymize: bool) -> str:
    return "on" if anonymize else "off (public dataset)"


def results_table(payload: dict) -> Table:
    name = Path(payload["dataset"]).name
    table = Table(title=f"Retrieval quality: {name} ({payload['queries']} queries)")
    table.add_column("mode")
    for metric in [*METRICS, "ms/query"]:
        table.add_column(metric, justify="right")
    for mode, values in payload["results"].items():
        cells = [f"{values[metric]:.4f}" for metric in METRICS] + [f"{values['ms/query']:.1f}"]
        table.add_row(mode, *cells)
    return table

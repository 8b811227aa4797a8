"""Where the anonymizer's time goes (issue 19): characters per second over real documents, the
time in each spaCy component, in each recognizer, and in the rest (Presidio's scoring and
context, our span filters).

    python bench/anonymize_cost.py [FOLDER ...] [--rounds 1] [--out RESULT.json]

FOLDERs default to the 5 SEC filings and the 18F handbook. Each folder's documents are loaded
once (the loaders' own cost is not counted; `--cache` keeps the texts for the next run), then
personal data is found in every page text, heading and title as the file worker does
(ingest/file_worker_child.py): one `find_many` call per document, or `find` per text on code
from before it. Replacing the values is left out (microseconds). `--spans FILE` writes what
was found, to check that two versions find the same. spaCy components and recognizers are
timed by wrapping them; the wrappers cost a few microseconds a call.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

from ingest.loaders import SUPPORTED_EXTENSIONS, LoaderError, load_document
from rag.config import AnonymizeSettings

DEFAULT_FOLDERS = ("../shared/eval/sec-10q-2022q3", "../shared/eval/handbook-18f")


def _texts(folder: Path) -> list[list[str]]:
    """Per document: its page texts, headings and title, in the order the worker reads them."""
    documents = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in SUPPORTED_EXTENSIONS:
            continue
        try:
            loaded = load_document(path)
        except LoaderError:
            continue
        texts = [p.text for p in loaded.pages]
        texts += [p.heading for p in loaded.pages if p.heading]
        documents.append([*texts, loaded.title])
    return documents


def _cached_texts(folder: Path, cache: Path | None) -> list[list[str]]:
    store = cache / f"{folder.resolve().name}.json" if cache else None
    if store is not None and store.exists():
        return json.loads(store.read_text())
    documents = _texts(folder)
    if store is not None:
        store.parent.mkdir(parents=True, exist_ok=True)
        store.write_text(json.dumps(documents))
    return documents


def _timed(totals: dict[str, float], name: str, function):
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            totals[name] += time.perf_counter() - started

    return wrapper


class _TimedComponent:
    """A spaCy component with its own time counted, in calls and in nlp.pipe batches. In
    nlp.pipe each component pulls its documents through the ones before it (generators), so
    the time of the components it waits on is taken off its own (`_NESTED`)."""

    _NESTED: list[float] = []  # per open timer: time spent in timers opened inside it

    def __init__(self, component, totals: dict[str, float], name: str) -> None:
        self._component, self._totals, self._name = component, totals, name

    def __call__(self, doc):
        return self._measure(lambda: self._component(doc))

    def pipe(self, docs, **kwargs):
        return self.timed(self._component.pipe(docs, **kwargs))

    def timed(self, items):
        """`items`, the time spent making each counted."""
        inner = iter(items)
        while True:
            try:
                doc = self._measure(lambda: next(inner))
            except StopIteration:
                return
            yield doc

    def _measure(self, step):
        self._NESTED.append(0.0)
        started = time.perf_counter()
        try:
            return step()
        finally:
            elapsed = time.perf_counter() - started
            self._totals[self._name] += elapsed - self._NESTED.pop()
            if self._NESTED:
                self._NESTED[-1] += elapsed

    def __getattr__(self, attribute):
        return getattr(self._component, attribute)


def _timed_generator(totals: dict[str, float], name: str, function):
    """A generator function whose time (all of it, nested timers included) is counted."""

    def wrapper(*args, **kwargs):
        inner = iter(function(*args, **kwargs))
        while True:
            started = time.perf_counter()
            try:
                item = next(inner)
            except StopIteration:
                return
            finally:
                totals[name] += time.perf_counter() - started
            yield item

    return wrapper


def _name(component) -> str:
    """A spaCy component's name, or the function's (the on-demand step that unsets sentences)."""
    return getattr(component, "name", None) or component.__name__


def _instrument(anonymizer, totals: dict[str, float]) -> None:
    analyzer = anonymizer._analyzer
    engine = analyzer.nlp_engine
    nlp = engine.nlp["en"]
    for index, (name, component) in enumerate(nlp._components):
        nlp._components[index] = (name, _TimedComponent(component, totals, f"spacy/{name}"))
    nlp.tokenizer = _TimedComponent(nlp.tokenizer, totals, "spacy/tokenizer")
    # On demand: `_on_demand` since issue 19's senter step, `_deferred` before it.
    on_demand = getattr(engine, "_on_demand", None) or getattr(engine, "_deferred", {})
    for components in on_demand.values():
        components[:] = [
            _TimedComponent(c, totals, f"spacy/{_name(c)} (on demand)") for c in components
        ]
    engine.process_text = _timed(totals, "spacy (all but deferred)", engine.process_text)
    if hasattr(engine, "process_many"):
        engine.process_many = _timed_generator(
            totals, "spacy (all but deferred)", engine.process_many
        )
    for recognizer in analyzer.registry.recognizers:
        recognizer.analyze = _timed(totals, f"recognizer/{recognizer.name}", recognizer.analyze)
    analyzer.analyze = _timed(totals, "presidio analyze (all)", analyzer.analyze)


def main() -> None:
    from rag.privacy.anonymizer import Anonymizer

    parser = argparse.ArgumentParser()
    parser.add_argument("folders", nargs="*", default=list(DEFAULT_FOLDERS), type=Path)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--cache", type=Path, help="folder keeping the loaded texts")
    parser.add_argument("--spans", type=Path, help="write every span found, to compare runs")
    args = parser.parse_args()
    anonymizer = Anonymizer(AnonymizeSettings(), b"0" * 32)
    anonymizer.anonymize("Warm-up text for Jane Doe at jane.doe@example.com, phone 555-0100.")
    totals: dict[str, float] = defaultdict(float)
    _instrument(anonymizer, totals)
    report, all_spans = {}, {}
    for folder in args.folders:
        documents = _cached_texts(folder, args.cache)
        chars = sum(len(t) for d in documents for t in d)
        totals.clear()
        started = time.perf_counter()
        cpu = time.process_time()
        spans = []
        for _ in range(args.rounds):
            for texts in documents:
                if hasattr(anonymizer, "find_many"):  # one call per document, as the worker
                    found = anonymizer.find_many(texts)
                else:  # code of before batching
                    found = [anonymizer.find(text) for text in texts]
                spans.append([[(s.start, s.end, s.entity_type) for s in f] for f in found])
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu
        name = folder.name
        report[name] = {
            "documents": len(documents),
            "characters": chars,
            "seconds": round(wall, 2),
            "cpu_seconds": round(cpu, 2),
            "chars_per_s": round(chars * args.rounds / wall),
            "chars_per_cpu_s": round(chars * args.rounds / cpu),
            "spans": sum(len(f) for d in spans for f in d),
            "parts_s": {k: round(v, 3) for k, v in sorted(totals.items(), key=lambda kv: -kv[1])},
        }
        if args.spans:
            all_spans[name] = spans
        print(f"\n{name}: {len(documents)} documents, {chars:,} characters x {args.rounds}")
        print(f"  {wall:.1f} s wall, {cpu:.1f} s CPU: {chars * args.rounds / wall:,.0f} chars/s")
        for part, seconds in sorted(totals.items(), key=lambda kv: -kv[1]):
            print(f"  {part:45s} {seconds:8.2f} s  {100 * seconds / wall:5.1f} %")
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n")
    if args.spans:
        args.spans.write_text(json.dumps(all_spans) + "\n")


if __name__ == "__main__":
    main()

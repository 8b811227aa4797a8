"""`rag doctor`: what the service will use, and whether each part loads.

Prints the config file, the device (CPU, or each GPU with its free memory), the database and
its schema, the index, and each model with its resolved path; with `load`, it loads each model
and runs it once. Nothing is written: the pseudonym key is not created, the index not saved.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from rag.config import DEFAULT_CONFIG, Settings
from rag.error_text import os_error_text
from rag.host_resources import usable_cpus

ERROR_CHARS = 300
# How much faster the openvino backend embedded than onnx's int8 with each int8 dot-product
# instruction (chunks per CPU second, bench/RESULTS.md, issue 19): with AMX 2.2x (one Xeon),
# with VNNI alone 1.44-1.6x (four machines); on an AVX2-only CPU it was slower.
INT8_DOT_PRODUCT_SPEEDUPS = {"amx_int8": "~2x", "avx512_vnni": "~1.5x", "avx_vnni": "~1.5x"}


@dataclass
class Row:
    part: str
    what: str
    status: str = "ok"  # ok | skipped | failed
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.status == "failed"


def _attempt(part: str, what: str, check: Callable[[], str]) -> Row:
    """Run one check; its exception becomes a failed row with a one-line reason."""
    try:
        return Row(part, what, "ok", check())
    except Exception as exc:  # a doctor reports every failure and goes on
        # Its checks see only settings and fixed probes, so their messages are shown; an OS
        # error by its errno (the row names the setting), never the file name it quotes.
        if isinstance(exc, OSError):
            reason = os_error_text(exc)
        else:
            reason = (str(exc).splitlines() or [""])[0][:ERROR_CHARS]
        return Row(part, what, "failed", f"{type(exc).__name__}: {reason}")


def config_rows() -> list[Row]:
    return [Row("config", os.environ.get("RAG_CONFIG") or str(DEFAULT_CONFIG))]


def device_rows(settings: Settings) -> list[Row]:
    import torch

    cores = usable_cpus()
    if not torch.cuda.is_available():
        rows = [Row("device", f"CPU, {cores} usable CPUs", "ok", "no CUDA device")]
    else:
        rows = []
        for index in range(torch.cuda.device_count()):
            free, total = torch.cuda.mem_get_info(index)
            name = torch.cuda.get_device_name(index)
            detail = f"{free / 2**30:.1f} GiB free of {total / 2**30:.1f} GiB"
            rows.append(Row("device", f"cuda:{index} {name}", "ok", detail))
    return rows + [_attempt("device", "where each part runs", lambda: _placement(settings))]


def file_workers_row(settings: Settings) -> Row:
    """How many processes an ingest reads and anonymizes files in, and why that many."""
    from ingest.file_workers import (
        host_capacity,
        worker_count,
        worker_memory_mib,
        workers_memory_holds,
    )

    ingest = settings.ingest
    count = worker_count(ingest)
    if isinstance(ingest.file_workers, int):
        return Row("ingest", f"{count} file workers", "ok", "ingest.file_workers")
    cpus, free_mib = host_capacity()
    if free_mib is None:
        detail = f"auto: {cpus} CPUs usable, free memory unknown"
    else:
        detail = (
            f"auto: {cpus} CPUs usable; {free_mib / 1024:.1f} GiB free holds "
            f"{workers_memory_holds(ingest, free_mib)} at {worker_memory_mib(ingest):g} MiB each"
        )
    return Row("ingest", f"{count} file workers", "ok", detail)


def _placement(settings: Settings) -> str:
    from rag.devices import check_devices

    placed = check_devices(settings)
    return ", ".join(f"{setting} {device}" for setting, device in placed.items())


def database_rows(settings: Settings) -> list[Row]:
    from sqlalchemy import func, select
    from sqlalchemy.engine import make_url

    from rag.db.migrate import current_revision, head_revision
    from rag.db.models import Chunk, Document
    from rag.db.session import make_engine

    url = settings.resolved_database_url
    shown = make_url(url).render_as_string(hide_password=True)

    def schema() -> str:
        missing = _missing_sqlite_file(url)
        if missing:  # connecting would create an empty file; the doctor writes nothing
            raise RuntimeError(f"no database at {missing} yet: run `rag db upgrade`")
        revision, head = current_revision(url), head_revision()
        if revision != head:
            raise RuntimeError(f"schema at {revision or 'nothing'}, expected {head}")
        return f"schema {revision} (current)"

    def contents() -> str:
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                documents = connection.scalar(select(func.count()).select_from(Document))
                chunks = connection.scalar(select(func.count()).select_from(Chunk))
        finally:
            engine.dispose()
        return f"{documents} documents, {chunks} chunks"

    rows = [_attempt("database", shown, schema)]
    if not rows[0].failed:
        rows.append(_attempt("database", "contents", contents))
    return rows


def index_rows(settings: Settings) -> list[Row]:
    import json

    from rag.index.vector_index import INDEX_FILE, META_FILE

    def snapshot() -> str:
        meta_path = settings.index_dir / META_FILE
        index_path = settings.index_dir / INDEX_FILE
        if not meta_path.is_file() or not index_path.is_file():
            return "no snapshot yet: built from the chunks table at start"
        meta = json.loads(meta_path.read_text())
        size = index_path.stat().st_size / 2**20
        vectors = meta.get("size", meta.get("ntotal"))
        counted = f"{vectors} vectors, " if vectors is not None else ""
        return (
            f"{counted}{size:.1f} MiB, model {meta.get('model')}, dimension "
            f"{meta.get('dimension')}, log seq {meta.get('last_seq')}"
        )

    return [_attempt("index", str(settings.index_dir), snapshot)]


def model_rows(settings: Settings, load: bool) -> list[Row]:
    from rag.model_paths import resolve_model_path

    rows = []
    embedding = settings.embedding

    def embedding_path() -> str:
        return f"{resolve_model_path(embedding.model, 'embedding')} (device {embedding.device})"

    path = _attempt("embedding", embedding.model, embedding_path)
    stored = _stored_fingerprint(settings) if embedding.backend == "auto" else None
    rows += [path, embedding_backend_row(settings, stored=stored)]
    if load and not path.failed:
        loads = lambda: _load_embedder(settings, stored)  # noqa: E731 - the runtime auto takes
        rows.append(_attempt("embedding", "loads and embeds", loads))
    anonymize = settings.anonymize
    if anonymize.enabled:
        rows.append(_attempt("anonymizer", anonymize.spacy_model, lambda: _spacy_path(anonymize)))
        if load and not rows[-1].failed:
            rows.append(
                _attempt("anonymizer", "loads and finds a name", lambda: _load_anonymizer(settings))
            )
    else:
        rows.append(Row("anonymizer", "disabled", "skipped", "anonymize.enabled is false"))
    return rows + llm_rows(settings, load)


def embedding_backend_row(
    settings: Settings, flags: frozenset[str] | None = None, stored: str | None = None
) -> Row:
    """The embedding backend (for `auto`: which runtime, and why), and where another would pay:
    on a CPU with an int8 dot-product instruction openvino embeds faster than onnx.
    `flags`: the CPU's (tests); `stored`: the store's recorded embedding fingerprint."""
    from rag.embed.backend_choice import int8_dot_product_flag, resolve_backend

    embedding = settings.embedding
    resolved = resolve_backend(embedding, stored, flags)
    what = f"backend {embedding.backend}"
    if embedding.backend == "auto":
        what += f" → {resolved.backend}"
    if resolved.backend != "torch":  # onnx_quantization is not read by torch
        what += f" ({embedding.onnx_quantization})"
    flag = int8_dot_product_flag(flags)
    speedup = INT8_DOT_PRODUCT_SPEEDUPS.get(flag or "")
    if embedding.backend == "auto" and resolved.backend != "torch":
        return Row("embedding", what, "ok", _why_auto(resolved, stored, flag, speedup))
    if embedding.backend != "onnx" or embedding.onnx_quantization != "int8" or not flag:
        return Row("embedding", what)
    return Row(
        "embedding",
        what,
        "ok",
        f"this CPU has {flag}: embedding.backend auto or openvino embeds {speedup} as fast "
        "here; switching re-embeds every chunk once",
    )


def _why_auto(resolved, stored: str | None, flag: str | None, speedup: str | None) -> str:
    """Why `auto` takes the CPU runtime `resolved.backend` (rag/embed/backend_choice.py)."""
    from rag.embed.backend_choice import openvino_installed, stored_runtime

    made_by = stored_runtime(stored)
    if made_by not in (None, resolved.backend):
        return (
            f"this store's vectors are {made_by}'s, which is not installed here: a re-embed "
            f"with {resolved.backend} is queued when the service starts"
        )
    if made_by == resolved.backend:
        return "the runtime that made this store's vectors (kept, so they never re-embed)"
    if resolved.backend == "openvino":
        return f"this CPU has {flag}: {speedup} as fast as onnx here"
    if resolved.onnx_quantization != "int8":
        return "float32 (onnx_quantization none) runs on onnx"
    if flag and not openvino_installed():
        return (
            f"this CPU has {flag}: with OpenVINO (pip install '.[openvino]') it would embed "
            f"{speedup} as fast; switching re-embeds every chunk once"
        )
    return "no VNNI or AMX on this CPU: OpenVINO's int8 would be slower here"


def _missing_sqlite_file(url: str) -> str | None:
    """The SQLite file `url` names where it does not exist yet (connecting would create it)."""
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if url.startswith("sqlite") and database and not os.path.exists(database):
        return database
    return None


def _stored_fingerprint(settings: Settings) -> str | None:
    """The store's recorded embedding fingerprint; None where there is none or no database
    (an SQLite file is not created: the doctor writes nothing)."""
    from ingest.reembed import stored_fingerprint
    from rag.db.session import make_engine, make_session_factory

    url = settings.resolved_database_url
    if _missing_sqlite_file(url):
        return None
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return stored_fingerprint(session)
    except Exception:  # an unreachable or unmigrated database has its own row
        return None
    finally:
        engine.dispose()


def llm_rows(settings: Settings, load: bool) -> list[Row]:
    from rag.model_paths import resolve_model_path

    llm = settings.llm
    rows = [Row("llm", f"backend {llm.backend}", "ok", f"context {llm.n_ctx} tokens")]
    if llm.backend == "openai_compatible":
        detail = f"model {llm.server.model or '(the first the server lists)'}"
        rows.append(Row("llm", f"server {llm.server.base_url}", "ok", detail))
    else:
        rows.append(_attempt("llm", llm.model, lambda: str(resolve_model_path(llm.model, "LLM"))))
        if llm.backend == "transformers":
            options = llm.transformers
            what = f"device {options.device}, quantization {options.quantization}"
            rows.append(Row("llm", what, "ok", f"dtype {options.dtype}"))
    if load and not rows[-1].failed:
        rows.append(_attempt("llm", "loads and generates", lambda: _load_llm(settings)))
    return rows


def _spacy_path(anonymize) -> str:
    import importlib.util

    spec = importlib.util.find_spec(anonymize.spacy_model)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"spaCy model package '{anonymize.spacy_model}' is not installed")
    return next(iter(spec.submodule_search_locations))


def _load_embedder(settings: Settings, stored: str | None) -> str:
    from rag.embed import load_embedder
    from rag.embed.backend_choice import resolve_backend

    embedder = load_embedder(resolve_backend(settings.embedding, stored))
    vectors = embedder.embed(["annual leave"])
    return f"on {embedder.device}, dimension {embedder.dimension} ({vectors.shape[1]} values)"


def _load_anonymizer(settings: Settings) -> str:
    from rag.privacy.anonymizer import Anonymizer

    # A throwaway key: the doctor must not create the real one in data_dir.
    anonymizer = Anonymizer(settings.anonymize, secret=b"rag-doctor")
    found = anonymizer.anonymize("Please ask Alice Martin.").text
    if "Alice Martin" in found:
        raise RuntimeError("the test name was not found")
    return "a test name was replaced"


def _load_llm(settings: Settings) -> str:
    from rag.llm import build_generator

    generator = build_generator(settings.llm)
    try:
        check = getattr(generator, "check", None)
        served = f"server serves {check()}; " if check else ""
        completion = generator.complete(
            [{"role": "user", "content": "Say OK."}], max_tokens=4, timeout_s=120
        )
        device = getattr(generator, "device", None)
        where = f" on {device}" if device else ""
        return (
            f"{served}{generator.name}{where}: {completion.usage.prompt_tokens} prompt "
            f"tokens, {completion.usage.completion_tokens} generated"
        )
    finally:
        close = getattr(generator, "close", None)
        if close:
            close()


def collect(settings: Settings, load: bool = True) -> list[Row]:
    return [
        *config_rows(),
        *device_rows(settings),
        file_workers_row(settings),
        *database_rows(settings),
        *index_rows(settings),
        *model_rows(settings, load),
    ]


def run_doctor(settings: Settings, console, load: bool = True) -> int:
    """Print the report; 0 when every check passed, 1 otherwise."""
    from rich.markup import escape
    from rich.table import Table

    rows = collect(settings, load)
    table = Table(title="rag doctor")
    for column in ("part", "what", "status", "detail"):
        table.add_column(column, overflow="fold")
    colours = {"ok": "green", "skipped": "yellow", "failed": "red"}
    for row in rows:
        status = f"[{colours[row.status]}]{row.status}[/{colours[row.status]}]"
        table.add_row(escape(row.part), escape(row.what), status, escape(row.detail))
    console.print(table)
    failed = [row for row in rows if row.failed]
    if failed:
        console.print(f"[red]{len(failed)} check(s) failed[/red]")
        return 1
    console.print("[green]all checks passed[/green]")
    return 0

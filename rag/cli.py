"""The `rag` command."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from rag import cli_jobs
from rag.config import get_settings
from rag.evaluation.cli import eval_app

# A crash prints no local variables: they may hold document text or file names.
app = typer.Typer(
    help="Questions answered from your own documents, offline.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(eval_app, name="eval")
console = Console()
err = Console(stderr=True)


def _service():
    """The service on the configured database, refusing a schema that is not migrated."""
    from rag.service import RagService, SchemaOutOfDate

    service = RagService(get_settings())
    try:
        service.check_schema()
    except SchemaOutOfDate as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    return service


cli_jobs.register(app, lambda: _service())


def _fail_on_startup_error(func):
    """A missing model or an unusable configured device is a startup error with its name, not
    a traceback."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from rag.devices import DeviceUnavailableError
        from rag.model_paths import ModelNotFoundError

        try:
            return func(*args, **kwargs)
        except (ModelNotFoundError, DeviceUnavailableError) as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from exc

    return wrapper


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or update the schema (Alembic migrations)."""
    from rag.db.migrate import upgrade
    from rag.private_files import make_private

    settings = get_settings()
    make_private(settings.data_dir)
    upgrade(settings.resolved_database_url)
    make_private(settings.data_dir)  # the database file it may just have made
    console.print("database schema is up to date")


@app.command()
@_fail_on_startup_error
def ingest(
    path: Annotated[Path, typer.Argument(help="A folder below one of ingest.allowed_roots.")],
    group: Annotated[list[str], typer.Option("--group", "-g", help="Access group.")] = [],  # noqa: B006
    strict: Annotated[bool, typer.Option(help="Exit non-zero if any file failed.")] = False,
) -> None:
    """Index a folder now, in this process: it becomes a source if it is not one yet; new and
    changed files are processed, deleted ones removed, moved ones re-pathed."""
    from ingest.file_workers import start_ingest_pool
    from ingest.scan import SourceUnavailable
    from ingest.sources import SourceError
    from rag.access import SYSTEM

    # The file workers load spaCy and Presidio while this process loads its models.
    start_ingest_pool(get_settings())
    service = _service()
    try:
        source_id = service.sources.for_folder(path, groups=group).id
    except SourceError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    with Progress(
        TextColumn("[bold]ingest[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=err,
        transient=False,
    ) as progress:
        task = progress.add_task("scanning", total=None)

        def on_progress(done: int, total: int, current: str, _report) -> None:
            progress.update(task, completed=done, total=total, description=current)

        try:
            report = service.pipeline.ingest_source(source_id, on_progress)
        except SourceUnavailable as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from exc
    service.index.save()  # the server then starts from a current snapshot
    _print_report(report)
    # Failures of earlier runs count too: an unchanged broken file is not read again.
    failed = len(service.documents.list(SYSTEM, source_id=source_id, status="failed"))
    service.close()
    if strict and failed:
        err.print(f"{failed} files of this folder failed (see `rag documents --status failed`)")
        raise typer.Exit(1)


def _print_report(report) -> None:
    # One row per figure: nine columns side by side do not fit an 80-column terminal.
    summary = Table(title="Ingest summary", show_header=False)
    summary.add_column("figure")
    summary.add_column("count", justify="right")
    figures = {
        "indexed": report.indexed,
        "unchanged": report.unchanged,
        "moved": report.moved,
        "skipped": len(report.skipped),
        "failed": len(report.failed),
        "deleted": report.deleted,
        "pages": report.pages,
        "chunks": report.chunks,
        "seconds": f"{report.seconds:.1f}",
    }
    for figure, count in figures.items():
        summary.add_row(figure, str(count))
    console.print(summary)
    problems = [("failed", f) for f in report.failed] + [("skipped", f) for f in report.skipped]
    if problems:
        table = Table(title="Files not indexed")
        table.add_column("file")
        table.add_column("status")
        table.add_column("reason")
        for status, failure in problems:
            table.add_row(failure.path, status, failure.reason)
        console.print(table)


@app.command()
@_fail_on_startup_error
def ask(
    question: Annotated[str, typer.Argument(help="The question.")],
    top_k: Annotated[int | None, typer.Option(help="Passages to use.")] = None,
) -> None:
    """Ask a question; the answer streams in, then its sources."""
    service = _service()
    service.load_all()  # so the timings below are the question's, not the models' loading
    started = time.perf_counter()
    stream = service.ask_stream(question, top_k)
    first_token = None
    pieces = 0
    for piece in stream.tokens:
        if first_token is None:
            first_token = time.perf_counter() - started
        pieces += 1
        sys.stdout.write(piece)
        sys.stdout.flush()
    sys.stdout.write("\n")
    if stream.citations:
        console.print("\n[bold]Sources[/bold]")
        for c in stream.citations:
            console.print(f"[{c.n}] {c.title} — {c.path}, page {c.page} (score {c.score:.2f})")
    total = time.perf_counter() - started
    err.print(f"[dim]first token {first_token or 0:.2f}s, {pieces} pieces in {total:.2f}s[/dim]")
    service.close()


@app.command()
@_fail_on_startup_error
def serve(
    host: Annotated[str | None, typer.Option(help="Default: api.host from the config.")] = None,
    port: Annotated[int | None, typer.Option(help="Default: api.port from the config.")] = None,
) -> None:
    """Serve the API (and the chat page) until interrupted."""
    import uvicorn

    from rag.api.main import create_app
    from rag.devices import check_devices

    settings = get_settings()
    _service().engine.dispose()  # fail fast on an old schema, before loading models
    check_devices(settings)  # and on a configured GPU that is not there
    host, port = host or settings.api.host, port or settings.api.port
    console.print(f"serving on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    # No proxy headers: the client address is the TCP peer, which api.trusted_proxies checks.
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", proxy_headers=False)


def format_pii_counts(counts: dict | None) -> str:
    """Counts per type only, never values: "PERSON 3, EMAIL_ADDRESS 1"."""
    items = sorted((counts or {}).items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{kind} {n}" for kind, n in items) or "-"


@app.command()
def documents(
    status: Annotated[str | None, typer.Option(help="Only this status (e.g. failed).")] = None,
    paths: Annotated[
        bool, typer.Option("--paths", help="Also each file's path as it is on disk (admins).")
    ] = False,
) -> None:
    """List documents: status, error, chunks and personal data found per type (counts only).
    Paths are shown with their names anonymized; --paths adds the real one, to act on a
    failed file."""
    from rag.access import SYSTEM

    service = _service()
    rows = service.documents.list(
        SYSTEM, status=status, include_deleted=True, by_path=True, reveal_paths=paths
    )
    table = Table(title=f"Documents ({len(rows)})")
    columns = ["id", "path", "status", "chunks", "personal data (per type)", "error"]
    if paths:
        columns.insert(2, "path on disk")
    for column in columns:
        table.add_column(column, justify="right" if column in ("id", "chunks") else "left")
    for doc in rows:
        on_disk = [doc.raw_path or "?"] if paths else []
        table.add_row(
            str(doc.id),
            doc.path,
            *on_disk,
            doc.status,
            str(doc.chunk_count),
            format_pii_counts(doc.pii_counts),
            doc.error or "",
        )
    console.print(table)
    service.engine.dispose()


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="Who or what uses the key.")],
    role: Annotated[str, typer.Option(help="reader or admin.")] = "reader",
    groups: Annotated[str, typer.Option(help="Comma-separated access groups.")] = "",
) -> None:
    """Make a key and print it once: only its hash is kept."""
    from rag.keys import KeyRequestError

    service = _service()
    group_list = [g.strip() for g in groups.split(",") if g.strip()]
    try:
        _, secret = service.keys.create(name, role, group_list)
    except KeyRequestError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    console.print(f"key for '{name}' ({role}); shown once, keep it safe:\n{secret}")


@keys_app.command("list")
def keys_list() -> None:
    """List keys: name, prefix, role, groups, revoked (never the key itself)."""
    service = _service()
    records = service.keys.list()
    table = Table(title=f"API keys ({len(records)})")
    for column in ("id", "name", "prefix", "role", "groups", "revoked", "created"):
        table.add_column(column)
    for key in records:
        table.add_row(
            str(key.id),
            key.name,
            key.prefix,
            key.role,
            ",".join(key.groups) or "-",
            "yes" if key.revoked else "no",
            f"{key.created_at:%Y-%m-%d %H:%M}",
        )
    console.print(table)
    service.engine.dispose()


@keys_app.command("revoke")
def keys_revoke(
    name_or_prefix: Annotated[str, typer.Argument(help="The key's name or its listed prefix.")],
) -> None:
    """Revoke a key: requests with it get 401 from then on."""
    from rag.keys import KeyRequestError

    service = _service()
    try:
        revoked = service.keys.revoke(name_or_prefix)
    except KeyRequestError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    console.print(f"key '{revoked.name}' revoked")
    service.engine.dispose()


@keys_app.command("bootstrap")
def keys_bootstrap() -> None:
    """Make an admin key if no key exists yet, and print it (used by `make run`)."""
    service = _service()
    secret = service.keys.create_first_admin()
    if secret is None:
        console.print("API keys exist already; make more with `rag keys create`.")
        return
    console.print(f"admin API key (shown once, keep it safe):\n{secret}")


@app.command()
def doctor(
    load: Annotated[
        bool, typer.Option("--load/--no-load", help="Load each model and run it once.")
    ] = True,
) -> None:
    """Show what the service will use (device, database, index, models, LLM backend) and
    check that each part loads. Exits 1 when a check fails."""
    from rag.doctor import run_doctor

    raise typer.Exit(run_doctor(get_settings(), console, load=load))


def keep_torch_out(args: list[str]) -> None:
    """Before `args` (the command line after `rag`) run: the indexing commands and the API
    are kept from importing torch when their settings do not need it (rag/torch_free.py)."""
    from rag import torch_free

    rules = {
        "ingest": torch_free.ingest_needs_torch,
        "worker": torch_free.ingest_needs_torch,
        "serve": torch_free.serving_needs_torch,
    }
    command = next((arg for arg in args if not arg.startswith("-")), None)
    if command not in rules:
        return
    try:
        needed = rules[command](get_settings())
    except Exception:  # noqa: BLE001 - invalid settings: the command itself reports them
        needed = True
    if not needed:
        torch_free.block_torch()


def run() -> None:
    """The `rag` command (pyproject's script and `python -m rag.cli`). Tests call `app`, so a
    test process is never kept from torch."""
    keep_torch_out(sys.argv[1:])
    app()


if __name__ == "__main__":
    run()

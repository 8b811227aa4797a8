"""`rag sources`, `rag reindex`, `rag jobs` and `rag worker`: admins keep folders indexed."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from rag import jobs

sources_app = typer.Typer(help="Registered document folders.", no_args_is_help=True)
jobs_app = typer.Typer(help="Indexing jobs.", invoke_without_command=True)
console = Console()
err = Console(stderr=True)


# How to make the service: given by rag/cli.py at registration (no import back to it).
_make_service: Callable[[], Any] | None = None


def _service():
    assert _make_service is not None, "register() first"
    return _make_service()


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


# -- sources ---------------------------------------------------------------------------------


@sources_app.command("add")
def sources_add(
    path: Annotated[Path, typer.Argument(help="A folder below one of ingest.allowed_roots.")],
    name: Annotated[str | None, typer.Option(help="Default: the folder's name.")] = None,
    group: Annotated[list[str], typer.Option("--group", "-g", help="Access group.")] = [],  # noqa: B006
    interval: Annotated[
        int | None, typer.Option(help="Re-scan every this many seconds (default: config).")
    ] = None,
    scan: Annotated[bool, typer.Option(help="Queue a first scan now.")] = True,
) -> None:
    """Register a folder; its documents are indexed by the worker."""
    from ingest.sources import SourceError

    service = _service()
    try:
        source, job = service.sources.add(
            path, name=name, groups=group, scan_interval_s=interval, scan=scan
        )
    except SourceError as exc:
        raise _fail(str(exc)) from exc
    console.print(f"source '{source.name}' registered: {source.path}")
    if job:
        console.print(f"scan queued as job {job['id']}; `rag reindex {source.name}` follows it")


@sources_app.command("list")
def sources_list() -> None:
    """Sources with their state, documents and chunks."""
    sources = _service().sources.list()
    table = Table(title=f"Sources ({len(sources)})")
    for column in ("id", "name", "path", "groups", "status", "docs", "chunks", "last scan"):
        table.add_column(column)
    for s in sources:
        status = s.status + (f": {s.error}" if s.error else "")
        last = s.last_scan_at.strftime("%Y-%m-%d %H:%M") if s.last_scan_at else "never"
        table.add_row(
            str(s.id), s.name, s.path, ",".join(s.groups) or "-", status,
            str(s.documents), str(s.chunks), last,
        )  # fmt: skip
    console.print(table)


def _change_source(ref: str, action: str) -> None:
    from ingest.sources import SourceNotFound

    sources = _service().sources
    try:
        if action == "remove":
            name, removed = sources.remove(ref)
        else:
            name = sources.change(ref, status=action).name
    except SourceNotFound as exc:
        raise _fail(str(exc)) from exc
    if action == "remove":
        console.print(f"source '{name}' removed with its {removed} chunks")
    else:
        console.print(f"source '{name}' is {action}")


@sources_app.command("pause")
def sources_pause(source: str) -> None:
    """Stop scanning a source (its documents stay searchable)."""
    _change_source(source, "paused")


@sources_app.command("resume")
def sources_resume(source: str) -> None:
    """Scan a paused source again."""
    _change_source(source, "active")


@sources_app.command("remove")
def sources_remove(
    source: str,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
) -> None:
    """Remove a source and everything indexed from it (the files are not touched)."""
    if not yes and not typer.confirm(f"Remove source '{source}' and its index entries?"):
        raise typer.Exit(1)
    _change_source(source, "remove")


# -- reindex, jobs, worker -----------------------------------------------------------------


def reindex(
    source: Annotated[str, typer.Argument(help="Source name, id or path.")],
    run: Annotated[
        bool, typer.Option(help="Run the job in this process (else a worker takes it).")
    ] = True,
    follow: Annotated[bool, typer.Option(help="Show its progress until it ends.")] = True,
) -> None:
    """Scan a source now: only new, changed, moved and deleted files are processed. Ctrl-C
    while it runs here stops after the current file and leaves the job queued for a worker."""
    from ingest.sources import SourceNotFound
    from rag.stop_signals import stop_on_signals

    service = _service()
    try:
        job_id = service.sources.queue_scan(source, refuse_paused=False)["id"]
    except SourceNotFound as exc:
        raise _fail(str(exc)) from exc
    console.print(f"job {job_id}: scan of '{source}'")
    if not (follow or run):
        return
    stop = threading.Event()
    runner = None
    with stop_on_signals(stop, say=err.print) if run else nullcontext():
        if run:
            worker = service.worker()
            runner = threading.Thread(
                target=worker.run_next, kwargs={"job_id": job_id, "stop": stop}, daemon=True
            )
            runner.start()
        # Stopped by Ctrl-C: the job was handed back once the runner is done with it.
        final = _follow(service, job_id, lambda: stop.is_set() and not runner.is_alive())
        if runner:
            runner.join()
    _print_job(final)
    if final["status"] == "queued":
        err.print(f"job {job_id} is queued again: a worker carries on where it stopped")
    if final["status"] != "succeeded":
        raise typer.Exit(1)


def _follow(service, job_id: int, stopped_here: Callable[[], bool] = lambda: False) -> dict:
    """Show the job's progress until it ends, or until `stopped_here()`."""
    with Progress(
        TextColumn("[bold]{task.fields[state]}[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=err,
    ) as progress:
        task = progress.add_task("", total=None, state="queued")
        while True:
            stopped = stopped_here()  # before the read, which then shows where it stopped
            job = service.jobs.get(job_id)
            progress.update(
                task,
                completed=job["done"],
                total=job["total"] or None,
                state=job["status"],
                description=job["current"] or "",
            )
            if job["status"] in jobs.FINISHED or stopped:
                return job
            time.sleep(0.5)


def _print_job(job: dict) -> None:
    console.print(
        f"job {job['id']} {job['status']}: {job['done']}/{job['total']} files, "
        f"{job['chunks_written']} chunks written" + (f" — {job['error']}" if job["error"] else "")
    )
    if job["errors"]:
        table = Table(title="Files not indexed")
        table.add_column("file")
        table.add_column("reason")
        for item in job["errors"]:
            table.add_row(item["path"], item["reason"])
        console.print(table)


@jobs_app.callback()
def jobs_list(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
) -> None:
    """List jobs, newest first (`rag jobs cancel ID` stops one)."""
    if ctx.invoked_subcommand is not None:
        return
    rows = _service().jobs.list(limit, status)
    table = Table(title=f"Jobs ({len(rows)})")
    for column in ("id", "kind", "source", "status", "files", "chunks", "errors", "started"):
        table.add_column(column)
    for j in rows:
        started = j["started_at"].strftime("%Y-%m-%d %H:%M:%S") if j["started_at"] else "-"
        status = j["status"] + (f": {j['error']}" if j["error"] else "")
        table.add_row(
            str(j["id"]), j["kind"], str(j["source_id"] or "-"), status,
            f"{j['done']}/{j['total']}", str(j["chunks_written"]), str(len(j["errors"])), started,
        )  # fmt: skip
    console.print(table)


@jobs_app.command("cancel")
def jobs_cancel(job_id: int) -> None:
    """Cancel a job: a queued one at once, a running one after its current file."""
    try:
        status = _service().jobs.cancel(job_id)["status"]
    except jobs.JobNotFound as exc:
        raise _fail(str(exc)) from exc
    console.print(f"job {job_id}: {'cancel requested' if status == 'running' else status}")


def worker(
    once: Annotated[bool, typer.Option(help="Exit when the queue is empty.")] = False,
) -> None:
    """Run indexing jobs until stopped. SIGTERM or Ctrl-C: the current job stops after its
    file and goes back to the queue; a second Ctrl-C quits at once."""
    from rag.devices import DeviceUnavailableError, pick_embedding_device
    from rag.stop_signals import stop_on_signals

    service = _service()
    try:  # the worker embeds: a configured GPU that is not there stops it here
        pick_embedding_device(service.settings.embedding)
    except DeviceUnavailableError as exc:
        raise _fail(str(exc)) from exc
    # A worker's log is its output: each job claimed, finished or handed back, without -v.
    logging.getLogger("ingest.worker").setLevel(logging.INFO)
    service.pipeline.check_version()  # a changed pipeline queues the reprocess job
    stop = threading.Event()
    instance = service.worker()
    console.print(f"worker {instance.name} waiting for jobs")
    with stop_on_signals(stop, say=err.print):
        try:
            done = instance.run(stop, once=once)
        except Exception as exc:
            # The type only: a database error's text may quote a stored value.
            raise _fail(f"worker stopped: internal error ({type(exc).__name__})", 1) from exc
    console.print(f"worker {instance.name} stopped after {done} jobs")
    service.close()


def register(app: typer.Typer, make_service: Callable[[], Any]) -> None:
    """Add these commands to `app`; `make_service` makes the service they act through."""
    global _make_service
    _make_service = make_service
    app.add_typer(sources_app, name="sources")
    app.add_typer(jobs_app, name="jobs")
    app.command()(reindex)
    app.command()(worker)

import sys
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import typer
import uvicorn
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from sqlalchemy import func
from sqlmodel import select
from typer.core import TyperGroup

from app import migrate
from app.checkpoints import checkpointing
from app.db import get_engine, new_session, utcnow
from app.errors import FoilogError
from app.exports.service import Format as ExportFormat
from app.models import DisclosureEntry, Role


class _Group(TyperGroup):
    """Domain errors end the command with their message, not a traceback."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except FoilogError as exc:
            typer.echo(f"error: {exc.detail}", err=True)
            for error in exc.errors or []:
                where = ".".join(str(part) for part in error["loc"])
                typer.echo(f"  {where}: {error['msg']}", err=True)
            raise typer.Exit(1) from None


cli = typer.Typer(
    cls=_Group,
    help="foilog: UK police FOI disclosure logs as a REST API.",
    no_args_is_help=True,
)
db_cli = typer.Typer(help="Database chores.", no_args_is_help=True)
keys_cli = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(keys_cli, name="keys")
round_robins_cli = typer.Typer(help="Round-robin requests.", no_args_is_help=True)
cli.add_typer(round_robins_cli, name="round-robins")
attachments_cli = typer.Typer(help="Attachments.", no_args_is_help=True)
cli.add_typer(attachments_cli, name="attachments")


def _check_database() -> None:
    """Refuse to use a database that is out of reach or not migrated to the newest revision:
    every request served would fail, and every command, with a traceback instead of the
    cause."""
    from sqlalchemy.exc import SQLAlchemyError

    from app.db import get_engine

    try:
        revision = migrate.current_revision(get_engine())
    except SQLAlchemyError as exc:
        typer.echo(f"error: the database cannot be reached: {type(exc).__name__}", err=True)
        raise typer.Exit(1) from None
    head = migrate.head_revision()
    if revision != head:
        typer.echo(
            f"error: the database is at revision {revision or 'none (empty)'}, not {head}; "
            "run `foilog db upgrade` first",
            err=True,
        )
        raise typer.Exit(1)


@keys_cli.callback()
@round_robins_cli.callback()
@attachments_cli.callback()
def _migrated() -> None:
    """Every command of these groups reads the database: it is checked first."""
    _check_database()


# How long uvicorn's supervisor waits for a worker to answer its health ping before it kills
# the worker and starts another. Its default, 5 s, is shorter than a worker takes to start
# (a new interpreter importing the app) on a loaded machine: on two busy cores every worker was
# killed while starting, again and again, and the server never came up. A worker that dies is
# replaced at once whatever this says. The cost: the supervisor waits on a starting worker's
# answer before it acts on a signal, so a SIGTERM while workers start takes up to this long.
WORKER_HEALTHCHECK_S = 30


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="worker processes")] = 1,
    limit_concurrency: Annotated[
        int | None,
        typer.Option(min=1, help="connections per worker at once; past it uvicorn answers 503"),
    ] = None,
    timeout_keep_alive: Annotated[
        int, typer.Option(min=1, help="seconds an idle keep-alive connection stays open")
    ] = 5,
    background: Annotated[
        bool,
        typer.Option(
            "--background/--no-background",
            help="run the background jobs (webhooks, scheduled entries) when elected",
        ),
    ] = True,
) -> None:
    """Serve the API with uvicorn, once the database is reachable and migrated, and the
    background jobs in this process when elected."""
    from app import worker

    _check_database()
    halt = worker.start_thread() if background else None
    try:
        uvicorn.run(
            "app.main:app",
            host=host,
            port=port,
            workers=workers,
            proxy_headers=True,
            server_header=False,
            access_log=False,
            limit_concurrency=limit_concurrency,
            timeout_keep_alive=timeout_keep_alive,
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
        )
    finally:
        if halt is not None:
            halt()


@cli.command("worker")
def run_worker() -> None:
    """Run only the background jobs: webhook delivery and announcing scheduled entries. Any
    number may run; one at a time is elected to do the work, the others stand by."""
    import logging
    import signal
    import threading

    from app import worker

    _check_database()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per delivery otherwise
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    typer.echo("foilog worker: standing by until elected", err=True)
    worker.runner().run(stop)


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest revision (safe to run again)."""
    migrate.upgrade()
    typer.echo(f"database at revision {migrate.head_revision()}")


def _entry_count() -> int:
    with new_session() as session:
        return session.exec(select(func.count()).select_from(DisclosureEntry)).one()


def _import(lines_total: int | None, lines: Iterable[bytes], label: str) -> None:
    """`lines` is read twice (checked, then written): a list, a Spool, or a file's lines."""
    from app.imports.service import Stage, import_entries
    from app.keys.service import Actor

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed} entries"),
        TimeElapsedColumn(),
    )
    # Each stage shows from its start: a million lines take minutes to check before the first
    # is written, and linking them into round-robins runs on after they are committed.
    titles = {
        Stage.CHECKED: f"{label}: checking",
        Stage.WRITTEN: f"{label}: writing",
        Stage.LINKED: f"{label}: linking round-robins",
    }
    tasks: dict[Stage, TaskID] = {}

    def show(stage: Stage, done: int, total: int | None) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(titles[stage], total=total or lines_total)
        progress.update(tasks[stage], completed=done, total=total or lines_total)

    # SQLite's write-ahead log is copied into the database on a thread of its own, as when
    # serving, not by whichever of the linking pass's commits takes it past its threshold.
    try:
        with progress, checkpointing(get_engine()), new_session(write=True) as session:
            result = import_entries(session, lines, actor=Actor.system("cli"), on_progress=show)
    except KeyboardInterrupt:
        # Linking begins once the lines are committed; before it, the import wrote nothing.
        typer.echo(
            "interrupted while linking round-robins: the entries are imported, and "
            "`foilog round-robins backfill` (or the background jobs) links the rest"
            if Stage.LINKED in tasks
            else "interrupted: nothing was written",
            err=True,
        )
        raise typer.Exit(130) from None
    typer.echo(f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged")


@cli.command()
def demo(
    count: Annotated[
        int,
        typer.Option(
            min=0, help="generated entries besides the seeds; above 0, round-robins come too"
        ),
    ] = 300,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="do nothing when the log has entries")
    ] = False,
    seeds: Annotated[
        bool,
        typer.Option(
            "--seeds/--no-seeds",
            help="read the two real seed letters through the extractor (--no-seeds leaves "
            "their references free for the write API)",
        ),
    ] = True,
) -> None:
    """Load the real seed letters (through the extractor), generated entries and a few
    round-robin requests (one text sent to several forces)."""
    import orjson

    from app.demo import demo_entries, round_robin_entries, seed_drafts

    _check_database()
    if if_empty and _entry_count():
        typer.echo("the log already has entries; demo not loaded")
        return
    if seeds:
        for draft in seed_drafts():
            if draft.missing:
                typer.echo(
                    f"{draft.letter}: read but not loaded, the letter does not print "
                    f"{', '.join(draft.missing)} and the demo invents no dates"
                )
    from app.imports.service import Spool

    # The round-robins are generated entries too: `--count 0` loads the seed letters alone.
    documents = [*demo_entries(count, seeds=seeds), *(round_robin_entries() if count else ())]
    lines = (orjson.dumps(document) + b"\n" for document in documents)
    with Spool.of(lines, max_bytes=sys.maxsize) as spool:
        _import(len(documents), spool, "demo")


@cli.command("import")
def import_file(
    file: Annotated[
        Path, typer.Argument(dir_okay=False, help="NDJSON entries; - reads standard input")
    ],
) -> None:
    """Import NDJSON entry documents: upsert by (force, reference), all or nothing."""
    _check_database()
    if str(file) == "-":
        _import_stream(sys.stdin.buffer, "standard input")
    elif not file.exists():
        raise typer.BadParameter(f"{file} does not exist", param_hint="FILE")
    elif not file.is_file():  # a pipe: /dev/stdin, <(gunzip -c log.ndjson.gz)
        with file.open("rb") as source:
            _import_stream(source, file.name)
    else:
        lines = _FileLines(file)
        _import(sum(1 for _ in lines), lines, file.name)


def _import_stream(source: BinaryIO, label: str) -> None:
    """An import of what can be read only once: copied to a temporary file first, as an import
    reads its lines twice (checked, then written)."""
    from app.imports.service import Spool

    with Spool.of(iter(lambda: source.read(1 << 20), b""), sys.maxsize) as spool:
        _import(sum(1 for _ in spool), spool, label)


class _FileLines:
    """A file's lines, from the start each time they are iterated, none longer than the API
    takes (a 200 MB line was read whole, 540 MB of memory)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __iter__(self) -> Iterator[bytes]:
        from app.imports.service import lines_of

        with self.path.open("rb") as handle:
            yield from lines_of(iter(lambda: handle.read(1 << 20), b""))


@cli.command()
def export(
    fmt: Annotated[
        ExportFormat, typer.Option("--format", help="ndjson: entry documents; csv: flat rows")
    ] = ExportFormat.NDJSON,
    output: Annotated[
        Path | None, typer.Option(dir_okay=False, help="file to write; standard output if none")
    ] = None,
) -> None:
    """Export every published entry, streamed; the same bytes as GET /v1/disclosure-log.<format>."""
    from app.disclosure_log.schemas import LogFilters
    from app.disclosure_log.service import selection
    from app.exports import service
    from app.links import base_url

    _check_database()
    if output is not None and not output.parent.is_dir():
        raise typer.BadParameter(f"{output.parent} is not a directory", param_hint="--output")
    target = output.open("wb") if output else nullcontext(sys.stdout.buffer)
    with new_session() as session:
        where = selection(session, LogFilters(), utcnow())
    with target as handle:
        for chunk in service.stream(where, fmt, sessions=new_session, base_url=base_url(None)):
            handle.write(chunk)
    if output is not None:
        typer.echo(f"exported the log as {fmt} to {output}", err=True)


@cli.command()
def extract(
    files: Annotated[
        list[Path], typer.Argument(exists=True, dir_okay=False, help="response letters")
    ],
    force: Annotated[str, typer.Option(help="the force whose letters these are")],
    output: Annotated[
        Path | None, typer.Option(dir_okay=False, help="NDJSON file to write; standard output")
    ] = None,
) -> None:
    """Draft an entry from each letter (PDF, DOCX, HTML, text): one entry document per line,
    ready for `foilog import` once checked. Warnings go to standard error; nothing is stored."""
    import orjson

    from app.config import get_settings
    from app.letters import service

    service.force_of(force)
    limit = get_settings().max_letter_bytes
    failed = 0
    target = output.open("wb") if output else nullcontext(sys.stdout.buffer)
    with target as handle:
        for file in files:
            try:
                if file.stat().st_size > limit:
                    raise FoilogError(f"a letter may hold at most {limit} bytes")
                result = service.extract(
                    file.read_bytes(), media_type="", force=force, max_bytes=limit
                )
            except FoilogError as exc:
                failed += 1
                typer.echo(f"{file}: not read: {exc.detail}", err=True)
                continue
            handle.write(orjson.dumps(result.entry) + b"\n")
            for warning in result.warnings:
                typer.echo(f"{file}: {warning}", err=True)
    if failed:
        raise typer.Exit(1)


@keys_cli.command("create")
def keys_create(
    role: Annotated[Role, typer.Option(help="admin: everything; editor: listed forces")],
    name: Annotated[str, typer.Option(help="a unique name for the key's holder")],
    force: Annotated[list[str] | None, typer.Option(help="a force an editor may write")] = None,
) -> None:
    """Create a key; the key itself is printed once, on the last line."""
    from app.keys import service

    with new_session(write=True) as session:
        key, secret = service.create(session, name=name, role=role, forces=force or [])
    typer.echo(f"created {key.role} key {key.name!r} (id {key.id}); it is shown only now:")
    typer.echo(secret)


@keys_cli.command("list")
def keys_list() -> None:
    """List keys (never the keys themselves)."""
    from app.keys import service

    with new_session() as session:
        for key in service.list_keys(session):
            state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
            forces = ",".join(key.forces) or "-"
            typer.echo(f"{key.id}\t{key.name}\t{key.role}\t{forces}\t{key.key_prefix}…\t{state}")


@keys_cli.command("revoke")
def keys_revoke(
    name_or_id: Annotated[str, typer.Argument(help="the key's id (as `keys list` shows) or name")],
) -> None:
    """Revoke a key at once."""
    from app.keys import service

    with new_session(write=True) as session:
        key = service.revoke(session, name_or_id)
    typer.echo(f"revoked key {key.name!r} (id {key.id})")


@attachments_cli.command("reread")
def attachments_reread() -> None:
    """Read every stored attachment again as uploads are read now (after an upgrade that reads
    more of a file: headers, comments, metadata), for search and the privacy check. Lists the
    attachments of public entries that now name their requester, exiting 1 if there are any."""
    from app.attachments import service
    from app.config import get_settings

    with new_session(write=True) as session:
        done = service.reread(session, max_bytes=get_settings().max_attachment_bytes)
    typer.echo(f"{done.read} attachments read again, {done.changed} with new text")
    if done.unreadable:
        listed = ", ".join(map(str, done.unreadable))
        typer.echo(f"not readable as uploads are read now (kept as they were): {listed}")
    if done.naming:
        listed = ", ".join(map(str, done.naming))
        typer.echo(f"public, and naming their requester: {listed}", err=True)
        raise typer.Exit(1)


@round_robins_cli.command("backfill")
def round_robins_backfill() -> None:
    """Link the entries never linked into round-robins (published before round-robins existed,
    or left by an import that stopped), a batch to a transaction; safe to stop and run again."""
    from app.worker import link_unlinked

    linked = link_unlinked()
    typer.echo(f"{linked} entries joined round-robins")


def main() -> None:
    from pydantic import ValidationError

    from app.config import get_settings

    try:
        get_settings()
    except ValidationError as exc:
        # A setting that does not parse, said in a line each, not under a traceback.
        for error in exc.errors():
            name = f"FOILOG_{'_'.join(str(p) for p in error['loc']).upper()}"
            typer.echo(f"error: {name}: {error['msg']}", err=True)
        raise SystemExit(2) from None
    cli()


if __name__ == "__main__":
    main()

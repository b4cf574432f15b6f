import sys
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import func
from sqlmodel import select
from typer.core import TyperGroup

from app import migrate
from app.db import new_session, utcnow
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


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="worker processes")] = 1,
) -> None:
    """Serve the API with uvicorn."""
    uvicorn.run(
        "app.main:app",
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        server_header=False,
        access_log=False,
    )


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
    from app.imports.service import import_entries
    from app.keys.service import Actor

    progress = Progress(
        TextColumn(label), BarColumn(), TextColumn("{task.completed} entries"), TimeElapsedColumn()
    )
    with progress, new_session(write=True) as session:
        task = progress.add_task(label, total=lines_total)
        result = import_entries(
            session,
            lines,
            actor=Actor.system("cli"),
            on_progress=lambda done: progress.update(task, completed=done),
        )
    typer.echo(f"{result.created} created, {result.updated} updated")


@cli.command()
def demo(
    count: Annotated[
        int, typer.Option(min=0, help="generated entries besides the two seeds")
    ] = 300,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="do nothing when the log has entries")
    ] = False,
) -> None:
    """Load the two real seed responses and generated entries across forces and years."""
    import orjson

    from app.demo import demo_entries

    if if_empty and _entry_count():
        typer.echo("the log already has entries; demo not loaded")
        return
    from app.imports.service import Spool

    lines = (orjson.dumps(document) + b"\n" for document in demo_entries(count))
    with Spool.of(lines, max_bytes=sys.maxsize) as spool:
        _import(count + 2, spool, "demo")


@cli.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="NDJSON entries")],
) -> None:
    """Import NDJSON entry documents: upsert by (force, reference), all or nothing."""
    with file.open("rb") as count_handle:
        total = sum(1 for _ in count_handle)
    _import(total, _FileLines(file), file.name)


class _FileLines:
    """A file's lines, from the start each time they are iterated."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __iter__(self) -> Iterator[bytes]:
        with self.path.open("rb") as handle:
            yield from handle


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
    from app.exports import service

    target = output.open("wb") if output else nullcontext(sys.stdout.buffer)
    with new_session() as session, target as handle:
        where = service.selection(session, LogFilters(), utcnow())
        for chunk in service.stream(session, where, fmt):
            handle.write(chunk)
    if output is not None:
        typer.echo(f"exported the log as {fmt} to {output}", err=True)


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
def keys_revoke(name_or_id: Annotated[str, typer.Argument(help="the key's name or id")]) -> None:
    """Revoke a key at once."""
    from app.keys import service

    with new_session(write=True) as session:
        key = service.revoke(session, name_or_id)
    typer.echo(f"revoked key {key.name!r}")


def main() -> None:
    cli()


if __name__ == "__main__":
    main()

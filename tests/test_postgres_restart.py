"""A real PostgreSQL restart under a real `foilog serve`: a PostgreSQL 15 cluster of the test's
own (pg_createcluster, on a port of 55500-55599; the shared server is never touched) is stopped
while reads and an import are in flight, asked while down, and started again. Every answer is
a 2xx or a 503 problem+json with Retry-After, never a 500; the import is not half-written; the
same processes serve again once the database is back, and the import then goes in whole.

It runs wherever root and Debian's pg_createcluster are (CI runs as root), whichever database
the rest of the suite uses; elsewhere it is skipped, saying why."""

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import census
import httpx
import pytest
from factories import auth, hertfordshire_request_body, make_key
from instances import Server, serve_cli
from sqlalchemy import create_engine, text
from sqlmodel import Session
from test_faults import (
    entry_rows_being_written,
    import_body,
    public_total,
    publish_one,
    table_counts,
    until,
)

from app.db import make_engine
from app.migrate import upgrade

PORTS = range(55500, 55600)
PROBLEM = "application/problem+json"
IMPORT_LINES = 2000


def _missing_tools() -> str | None:
    if os.geteuid() != 0:
        return "making a PostgreSQL cluster of its own needs root (CI runs as root)"
    if shutil.which("pg_createcluster") is None or not Path("/etc/postgresql").is_dir():
        return "needs pg_createcluster and PostgreSQL 15 (Debian's postgresql-common)"
    return None


def _free_port() -> int:
    taken = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True).stdout
    used = {int(line.split()[2]) for line in taken.splitlines() if line.strip()}
    for port in PORTS:
        if port in used:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError(f"no free port in {PORTS}")


@dataclass
class Cluster:
    version: str
    name: str
    port: int

    def ctl(self, action: str, *options: str) -> None:
        command = ["pg_ctlcluster", "--skip-systemctl-redirect", self.version, self.name, action]
        subprocess.run([*command, *options], check=True, capture_output=True, timeout=120)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def ready(self) -> bool:
        probe = ["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(self.port)]
        return subprocess.run(probe, timeout=30).returncode == 0


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    missing = _missing_tools()
    if missing:
        pytest.skip(missing)
    version = max(os.listdir("/etc/postgresql"), key=int)
    own = Cluster(version, f"foilog_restart_{os.getpid()}", _free_port())
    create = ["pg_createcluster", version, own.name, "--port", str(own.port)]
    subprocess.run(create, check=True, capture_output=True, timeout=300)
    try:
        # The shared server's trust authentication on the loopback address.
        hba = Path("/etc/postgresql", version)
        shutil.copy(hba / "main" / "pg_hba.conf", hba / own.name / "pg_hba.conf")
        own.ctl("start")
        until(own.ready, "the test's own PostgreSQL to start")
        yield own
    finally:
        command = ["pg_ctlcluster", "--skip-systemctl-redirect", version, own.name, "stop"]
        subprocess.run([*command, "-m", "immediate"], capture_output=True, timeout=120)
        subprocess.run(["pg_dropcluster", version, own.name], capture_output=True, timeout=120)


@dataclass
class Answer:
    what: str
    status: int
    content_type: str
    retry_after: str
    text: str


def _answer(what: str, response: httpx.Response) -> Answer:
    headers = response.headers
    return Answer(
        what,
        response.status_code,
        headers.get("content-type", ""),
        headers.get("retry-after", ""),
        response.text[:300],
    )


class Readers:
    """Threads that ask the server again and again until stopped, keeping every answer."""

    def __init__(self, url: str, key: str, count: int = 2) -> None:
        self.url = url
        self.key = key
        self.answers: list[Answer] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._read) for _ in range(count)]

    def _read(self) -> None:
        asks = [
            ("/v1/disclosure-log", {"q": "police"}, {}),
            ("/v1/requests", {}, auth(self.key)),
            ("/v1/stats", {"force": "hertfordshire"}, {}),
        ]
        with httpx.Client(base_url=self.url, timeout=60) as client:
            while not self.stop.is_set():
                for path, params, headers in asks:
                    response = client.get(path, params=params, headers=headers)
                    self.answers.append(_answer(f"GET {path}", response))

    def __enter__(self) -> "Readers":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=120)


def _unavailable(answer: Answer) -> bool:
    return (
        answer.status == 503
        and answer.content_type == PROBLEM
        and answer.retry_after.isdigit()
        and int(answer.retry_after) > 0
    )


@pytest.fixture
def served(cluster: Cluster, tmp_path: Path) -> Iterator[tuple[Server, str, str]]:
    admin = create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text('CREATE DATABASE "foilog"'))
    admin.dispose()
    url = cluster.url("foilog")
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        key = make_key(session)
        session.commit()
    engine.dispose()
    with serve_cli(url, tmp_path / "serve.log") as server:
        yield server, url, key


def test_a_postgresql_restart_is_503s_then_served_again_without_a_restart_of_foilog(
    cluster: Cluster, served: tuple[Server, str, str]
) -> None:
    server, url, key = served
    engine = create_engine(url, pool_pre_ping=True)
    writing = entry_rows_being_written(url)
    body = import_body(IMPORT_LINES)
    headers = {**auth(key), "Content-Type": "application/x-ndjson"}
    imported: list[Answer] = []
    while_down: list[Answer] = []
    with httpx.Client(base_url=server.url, timeout=120) as client:
        seeded = [publish_one(client, key, f"SEED/{n}") for n in range(3)]
        before = table_counts(engine)
        workers = server.workers()

        def send_import() -> None:
            with httpx.Client(base_url=server.url, timeout=300) as importer:
                response = importer.post("/v1/import", content=body, headers=headers)
                imported.append(_answer("POST /v1/import", response))

        with Readers(server.url, key) as readers:
            importing = threading.Thread(target=send_import)
            importing.start()
            until(writing, "the import to begin writing entries", timeout=120)
            request_body = hertfordshire_request_body(reference="WHILE/DOWN")
            # Fast shutdown: PostgreSQL ends every session, rolling back what is in flight.
            cluster.ctl("stop", "-m", "fast")
            importing.join(timeout=120)
            asks: list[tuple[str, str, dict[str, Any]]] = [
                ("GET", "/v1/disclosure-log", {}),
                ("GET", "/readyz", {}),
                ("GET", "/v1/requests", {"headers": auth(key)}),
                ("POST", "/v1/requests", {"headers": auth(key), "json": request_body}),
                ("POST", "/v1/import", {"headers": headers, "content": body}),
            ]
            for method, path, options in asks:
                response = client.request(method, path, **options)
                while_down.append(_answer(f"{method} {path}", response))
            cluster.ctl("start")
            until(
                lambda: client.get("/v1/requests", headers=auth(key)).status_code == 200,
                "foilog to serve again",
            )
            time.sleep(1.0)  # the readers go on a while against the restarted database
        after_restart = table_counts(engine)
        again = client.post("/v1/import", content=body, headers=headers)
        total = public_total(client)
        still = server.workers()
    engine.dispose()

    census.fault("PostgreSQL restart", lost=max(len(seeded) + IMPORT_LINES - total, 0))
    wrong = [a for a in readers.answers if a.status != 200 and not _unavailable(a)]
    assert not wrong, wrong[:5]
    assert any(_unavailable(a) for a in readers.answers), (
        "no read was in flight or asked while down"
    )
    assert [a.status for a in readers.answers[-4:]] == [200] * 4
    assert len(imported) == 1
    assert _unavailable(imported[0]), imported
    assert all(_unavailable(a) for a in while_down), while_down
    assert after_restart == before  # not a row of the interrupted import
    assert again.status_code == 200, again.text
    assert again.json() == {"created": IMPORT_LINES, "updated": 0, "unchanged": 0}
    assert total == len(seeded) + IMPORT_LINES
    # The same processes served throughout: nothing restarted foilog or a worker of it.
    assert server.process.poll() is None
    assert still == workers
    assert "unhandled error" not in server.output()

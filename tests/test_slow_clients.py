"""Clients that open an export and stop reading hold nothing others need: with 200 of them
stalled on a real server, writes and reads nobody asked before still answer within a second."""

import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator

import census
import httpx
import orjson
import pytest
from factories import auth, make_key
from sqlmodel import Session, func, select

from app.db import new_session
from app.demo import generate_entries
from app.imports.service import import_entries
from app.keys.schemas import Actor
from app.models import DisclosureEntry

STALLED = 200
# NDJSON exports of 6.4 MB: more than the buffers of a local socket take (Linux grows a
# send buffer to 4 MB), so the server's writes to these clients stall for good; more of them
# than either database's pool has connections. The others ask for the CSV.
ENTRIES = 1600
STALLED_NDJSON = 30


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def server(session: Session, database_url: str) -> Iterator[str]:
    lines = [orjson.dumps(entry) for entry in generate_entries(ENTRIES)]
    import_entries(session, lines, actor=Actor.system("test"))
    port = _free_port()
    env = {**os.environ, "FOILOG_DATABASE_URL": database_url}
    command = [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port)]
    process = subprocess.Popen([*command, "--log-level", "warning"], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _stall(port: int, path: str) -> socket.socket:
    """Ask for `path`, take the first bytes, then read no more."""
    client = socket.socket()
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    client.connect(("127.0.0.1", port))
    client.sendall(f"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
    client.settimeout(60)
    assert client.recv(1) == b"H"
    return client


def _timed(send: httpx.Client, method: str, path: str, **kwargs: object) -> float:
    started = time.perf_counter()
    response = send.request(method, path, **kwargs)  # type: ignore[arg-type]
    assert response.status_code in (200, 201), response.text
    return time.perf_counter() - started


def test_stalled_exports_leave_writes_and_fresh_reads_answering(
    server: str, session: Session
) -> None:
    key = make_key(session)
    port = int(server.rsplit(":", 1)[1])
    paths = ["/v1/disclosure-log.ndjson"] * STALLED_NDJSON
    paths += ["/v1/disclosure-log.csv"] * (STALLED - STALLED_NDJSON)
    stalled = [_stall(port, path) for path in paths]
    try:
        extra = iter(generate_entries(5, start_index=ENTRIES))
        with httpx.Client(base_url=server, timeout=30) as client:
            took = []
            for n in range(5):
                line = orjson.dumps(next(extra))
                headers = {**auth(key), "Content-Type": "application/x-ndjson"}
                took.append(_timed(client, "POST", "/v1/import", content=line, headers=headers))
                took.append(_timed(client, "GET", f"/v1/disclosure-log?limit={n + 3}"))
                took.append(_timed(client, "GET", f"/v1/stats?published_from=2001-01-0{n + 1}"))
    finally:
        for connection in stalled:
            connection.close()
    with new_session() as reader:
        stored = reader.exec(select(func.count()).select_from(DisclosureEntry)).one()
    census.fault("stalled exports", lost=ENTRIES + 5 - stored)
    assert stored == ENTRIES + 5
    assert statistics.median(took) < 1.0, took
    assert max(took) < 5.0, took

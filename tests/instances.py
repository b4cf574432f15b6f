"""A second foilog instance for mirroring tests: its own migrated SQLite file, served by uvicorn
in a process of its own (the app's engine is one per process), with an admin key."""

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from sqlmodel import Session

from app.db import make_engine
from app.keys import service as keys
from app.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Instance:
    url: str
    key: str

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serve(directory: Path) -> Iterator[Instance]:
    database_url = f"sqlite:///{directory / 'mirror.db'}"
    upgrade(database_url)
    engine = make_engine(database_url)
    with Session(engine) as session:
        _, key = keys.create(session, name="mirror", role="admin")
    engine.dispose()
    port = _free_port()
    env = {**os.environ, "FOILOG_DATABASE_URL": database_url}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    instance = Instance(f"http://127.0.0.1:{port}", key)
    try:
        _wait_until_ready(instance)
        yield instance
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_until_ready(instance: Instance, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{instance.url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"the second instance at {instance.url} did not come up")


@contextmanager
def serve_in_thread() -> Iterator[str]:
    """The app of this process's database under uvicorn in a thread; yields its base URL."""
    from app.main import create_app

    port = _free_port()
    config = uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    while not running.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        running.should_exit = True
        thread.join()


@dataclass
class Server:
    """A real `foilog serve` process: uvicorn's supervisor and its worker processes."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def workers(self) -> set[int]:
        """The pids of the worker processes serving requests (children that listen)."""
        return {pid for pid in children(self.process.pid) if _sockets(pid)}

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def serve_cli(
    database_url: str,
    log: Path,
    *,
    workers: int = 2,
    args: Sequence[str] = (),
    **settings: str,
) -> Iterator[Server]:
    """`foilog serve --workers N [args]` on `database_url`, until the block ends; `settings`
    are FOILOG_ environment variables (lower case, without the prefix)."""
    port = _free_port()
    env = {**os.environ, "FOILOG_DATABASE_URL": database_url}
    env.update({f"FOILOG_{name.upper()}": value for name, value in settings.items()})
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [*command, "--workers", str(workers), *args],
            cwd=ROOT,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_until_ready(Instance(server.url, ""))
        deadline = time.monotonic() + 60
        while len(server.workers()) < workers:
            assert time.monotonic() < deadline, "the workers did not come up"
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (Linux: read from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _sockets(pid: int) -> set[int]:
    inodes = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(int(target[8:-1]))
    except OSError:
        pass
    return inodes


def process_serving(server: Server, client_port: int) -> int:
    """The worker process that holds the server's end of the client's connection from
    `client_port` (found through /proc/net/tcp and each worker's open files)."""
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1], fields[2]
        if (
            int(local.split(":")[1], 16) == server.port
            and int(remote.split(":")[1], 16) == client_port
        ):
            inode = int(fields[9])
    assert inode is not None, f"no connection from port {client_port} to the server"
    for pid in server.workers():
        if inode in _sockets(pid):
            return pid
    raise AssertionError(f"no worker holds the connection from port {client_port}")

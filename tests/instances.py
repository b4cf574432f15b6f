"""A second foilog instance for mirroring tests: its own migrated SQLite file, served by uvicorn
in a process of its own (the app's engine is one per process), with an admin key."""

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
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

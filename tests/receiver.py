"""A real HTTP server on a free local port that records the webhooks it receives."""

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
from standardwebhooks.webhooks import Webhook as Verifier


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    def json(self) -> Any:
        return orjson.loads(self.body)

    def verified(self, secret: str) -> Any:
        """The payload, after the library checked the signature (raises if it does not match)."""
        return Verifier(secret).verify(self.body, self.headers)


@dataclass(frozen=True)
class Reply:
    status: int = 204
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0


class Gate:
    """Replies that wait until the test opens the gate (or 30 s): a receiver that is slow
    for exactly as long as the test needs."""

    def __init__(self) -> None:
        self.opened = threading.Event()

    def __call__(self, _: int) -> Reply:
        self.opened.wait(30)
        return Reply()


class Receiver:
    """`reply(n)` decides the answer to the n-th request (from 0); the default is 204."""

    def __init__(self, reply: Callable[[int], Reply] | None = None) -> None:
        self.reply = reply or (lambda _: Reply())
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.port = 0
        self.server: ThreadingHTTPServer | None = None

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver.lock:
                    index = len(receiver.received)
                    receiver.received.append(
                        Received(
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                            time.monotonic(),
                        )
                    )
                reply = receiver.reply(index)
                time.sleep(reply.delay)
                self.send_response(reply.status)
                for name, value in reply.headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, *_: Any) -> None:
                pass  # a client that gave up (a timeout test) closes the socket under us

        self.server = Server(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.05)
        raise AssertionError(f"{len(self.received)} webhooks received, {count} expected")


@contextmanager
def receiving(reply: Callable[[int], Reply] | None = None) -> Iterator[Receiver]:
    receiver = Receiver(reply)
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()


@contextmanager
def trickling(head: bytes, every: float | None = 0.2, *, hold: float = 5.0) -> Iterator[int]:
    """A receiver that reads the request, sends `head` and then one byte every `every` seconds
    (or nothing more, when None) until the client goes or `hold` seconds have passed: with
    bytes trickling, no single read waits long. `hold` ends a test of a client that would wait
    for ever. Yields its port."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    stopped = threading.Event()

    def trickle(conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(head)
                until = time.monotonic() + hold
                while not stopped.wait(every or 0.05) and time.monotonic() < until:
                    if every is not None:
                        conn.sendall(b"X")
            except OSError:
                pass  # the client gave up

    def accept() -> None:
        while not stopped.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed
            threading.Thread(target=trickle, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        stopped.set()
        listener.close()

"""One webhook POST: where it may go, and the request itself. No database here: the dispatcher
calls this with no connection held, however long the receiver takes."""

import asyncio
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import SplitResult, urlsplit

import httpcore
import httpx

# Only the status matters; a receiver that answers with a large body gets read this far.
MAX_RESPONSE_BYTES = 64 * 1024
USER_AGENT = "foilog-webhooks/1"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedTarget(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def parse_url(url: str) -> SplitResult:
    """An absolute http(s) URL with a host and no credentials, else RefusedTarget. A control
    character is refused, not read past: urlsplit drops tabs and line breaks wherever they are,
    so the URL shown would not be the one sent to."""
    control = next((ch for ch in url if ord(ch) < 0x20 or ord(ch) == 0x7F), None)
    if control is not None:
        raise RefusedTarget(f"{url[:200]!r} holds the control character {control!r}")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        raise RefusedTarget(f"{url[:200]!r} is not a URL") from None
    if parts.scheme not in ("http", "https"):
        raise RefusedTarget(f"{url[:200]!r} is not an http or https URL")
    if not parts.hostname:
        raise RefusedTarget(f"{url[:200]!r} has no host")
    if parts.username is not None or parts.password is not None:
        raise RefusedTarget("a webhook URL may not carry a user name or password")
    return parts


def _forbidden(address: Address) -> str | None:
    """Why an address is off limits, or None for a public one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for reason, flag in (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("unspecified", address.is_unspecified),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        ("not globally routable", not address.is_global),
    ):
        if flag:
            return reason
    return None


def resolve(parts: SplitResult, *, allow_private: bool) -> list[Address]:
    """Every address the host has, each checked: one forbidden address refuses the target, so
    a name cannot pass with a public address and then be reached at a private one."""
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses: list[Address] = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise RefusedTarget(f"the host {host!r} cannot be resolved") from None
        addresses = []
        for *_, sockaddr in found:
            address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
            if address not in addresses:
                addresses.append(address)
    if not allow_private:
        for address in addresses:
            reason = _forbidden(address)
            if reason is not None:
                raise RefusedTarget(
                    f"the host {host!r} has the {reason} address {address}; webhooks may only "
                    "target public addresses (FOILOG_WEBHOOK_ALLOW_PRIVATE)"
                )
    return addresses


@lru_cache
def _tls() -> ssl.SSLContext:
    """Loading the CA bundle costs more than most deliveries: once per process."""
    return httpx.create_ssl_context()


def _pinned(parts: SplitResult, address: Address) -> tuple[str, dict[str, str], dict[str, str]]:
    """The URL rewritten to the checked address, with the Host header and the TLS server name of
    the original host, so the connection goes where the check looked (no second DNS lookup
    that could answer differently) and HTTPS still verifies the certificate for the host."""
    literal = f"[{address}]" if address.version == 6 else str(address)
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    host = parts.hostname or ""
    host_header = host if parts.port is None else f"{host}:{parts.port}"
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    return parts._replace(netloc=netloc).geturl(), {"Host": host_header}, extensions


class _Answer:
    """What came back before the deadline: a status once the headers are in."""

    status: int | None = None
    location: str = ""


class _Connections(httpcore.AsyncNetworkBackend):
    """httpcore's own connecting, each connection remembered: httpcore closes one whose TLS
    handshake fails but not one cancelled in it, so the attempt closes what is left itself."""

    def __init__(self) -> None:
        self.backend = httpcore.AnyIOBackend()
        self.opened: list[httpcore.AsyncNetworkStream] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self.backend.connect_tcp(host, port, timeout, local_address, socket_options)
        self.opened.append(stream)
        return stream

    async def sleep(self, seconds: float) -> None:
        await self.backend.sleep(seconds)


def _resolve_by(deadline: float, parts: SplitResult, *, allow_private: bool) -> list[Address]:
    """`resolve`, given up at the deadline (TimeoutError). getaddrinfo cannot be interrupted,
    so it runs on a thread of its own, left to end when the resolver gives up."""
    found: list[list[Address] | RefusedTarget] = []

    def look_up() -> None:
        try:
            found.append(resolve(parts, allow_private=allow_private))
        except RefusedTarget as exc:
            found.append(exc)

    thread = threading.Thread(target=look_up, name="foilog-webhook-lookup", daemon=True)
    thread.start()
    thread.join(max(0.0, deadline - time.monotonic()))
    if not found:
        raise TimeoutError
    if isinstance(found[0], RefusedTarget):
        raise found[0]
    return found[0]


async def _exchange(
    target: str,
    body: bytes,
    headers: dict[str, str],
    extensions: dict[str, str],
    *,
    until: float,
    into: _Answer,
) -> None:
    """httpcore (httpx's engine) under one deadline: its own timeouts bound each read, not
    the whole, so a receiver sending a header byte every few seconds would never reach them.
    httpcore follows no redirect and reads no proxy from the environment."""
    connections = _Connections()
    try:
        async with (
            asyncio.timeout(until - time.monotonic()),
            httpcore.AsyncConnectionPool(ssl_context=_tls(), network_backend=connections) as pool,
            pool.stream(
                "POST", target, headers=list(headers.items()), content=body, extensions=extensions
            ) as response,
        ):
            into.status = response.status
            into.location = next(
                (v.decode("latin-1") for k, v in response.headers if k.lower() == b"location"), ""
            )
            read = 0
            async for chunk in response.aiter_stream():
                read += len(chunk)
                if read >= MAX_RESPONSE_BYTES:
                    break
    finally:
        for stream in connections.opened:
            await stream.aclose()


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout: float,
    allow_private: bool,
) -> Outcome:
    """POST once: no redirect followed, no proxy from the environment, at most
    MAX_RESPONSE_BYTES of the answer read, and over within `timeout` seconds whatever the
    receiver does. The name lookup runs against the deadline on a thread; the rest (connecting,
    TLS, sending, the status line and headers, the body) in an event loop of its own, cancelled
    at the deadline, which no trickling or stalled peer can hold off."""
    deadline = time.monotonic() + timeout
    timed_out = Outcome(None, f"timed out after {timeout:g} s")
    try:
        parts = parse_url(url)
        address = _resolve_by(deadline, parts, allow_private=allow_private)[0]
    except RefusedTarget as exc:
        return Outcome(None, exc.detail)
    except TimeoutError:
        return timed_out
    target, host, extensions = _pinned(parts, address)
    sent_headers = {
        **headers,
        **host,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }
    answer = _Answer()
    try:
        asyncio.run(_exchange(target, body, sent_headers, extensions, until=deadline, into=answer))
    except TimeoutError:
        # The status is in; a body that is long or slow to come is not waited for.
        if answer.status is None:
            return timed_out
    except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol) as exc:
        return Outcome(None, f"{type(exc).__name__}: {str(exc)[:300] or 'connection failed'}")
    status = answer.status
    assert status is not None
    if 200 <= status < 300:
        return Outcome(status, None)
    if 300 <= status < 400:
        return Outcome(status, f"HTTP {status}: redirect to {answer.location[:300]!r} not followed")
    return Outcome(status, f"HTTP {status}")

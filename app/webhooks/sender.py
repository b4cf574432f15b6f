"""One webhook POST: where it may go, and the request itself. No database here: the dispatcher
calls this with no connection held, however long the receiver takes."""

import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import SplitResult, urlsplit

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
    """An absolute http(s) URL with a host and no credentials, else RefusedTarget."""
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


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout: float,
    allow_private: bool,
) -> Outcome:
    """POST once: no redirect followed, no proxy from the environment, at most `timeout`
    seconds, at most MAX_RESPONSE_BYTES of the answer read."""
    try:
        parts = parse_url(url)
        address = resolve(parts, allow_private=allow_private)[0]
    except RefusedTarget as exc:
        return Outcome(None, exc.detail)
    target, host, extensions = _pinned(parts, address)
    sent_headers = {
        **headers,
        **host,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }
    deadline = time.monotonic() + timeout
    try:
        with (
            httpx.Client(
                timeout=timeout, follow_redirects=False, trust_env=False, verify=_tls()
            ) as client,
            client.stream(
                "POST", target, content=body, headers=sent_headers, extensions=extensions
            ) as response,
        ):
            read = 0
            for chunk in response.iter_raw():
                # The status is in; a body that is long or slow to come is not waited for.
                read += len(chunk)
                if read >= MAX_RESPONSE_BYTES or time.monotonic() > deadline:
                    break
            status = response.status_code
            location = response.headers.get("location", "")
    except httpx.TimeoutException:
        return Outcome(None, f"timed out after {timeout:g} s")
    except httpx.HTTPError as exc:
        return Outcome(None, f"{type(exc).__name__}: {str(exc)[:300] or 'connection failed'}")
    if 200 <= status < 300:
        return Outcome(status, None)
    if 300 <= status < 400:
        return Outcome(status, f"HTTP {status}: redirect to {location[:300]!r} not followed")
    return Outcome(status, f"HTTP {status}")

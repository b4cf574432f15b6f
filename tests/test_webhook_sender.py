"""The sender's address checks and pinning, without a network (name resolution is replaced),
and its deadline against receivers on a local port."""

import socket
import time
from typing import Any

import pytest
from receiver import trickling

from app.webhooks import sender


def _resolving_to(monkeypatch: pytest.MonkeyPatch, *addresses: str) -> None:
    def fake(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in addresses
        ]

    monkeypatch.setattr(socket, "getaddrinfo", fake)


def test_one_private_address_among_public_ones_refuses_the_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _resolving_to(monkeypatch, "93.184.215.14", "10.0.0.7")
    parts = sender.parse_url("https://hooks.example.org/in")
    with pytest.raises(sender.RefusedTarget, match=r"private address 10\.0\.0\.7"):
        sender.resolve(parts, allow_private=False)
    assert [str(a) for a in sender.resolve(parts, allow_private=True)] == [
        "93.184.215.14",
        "10.0.0.7",
    ]


def test_a_refused_target_is_an_attempt_that_failed_without_connecting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _resolving_to(monkeypatch, "127.0.0.1")
    outcome = sender.post("http://hooks.example.org/in", b"{}", {}, timeout=1, allow_private=False)
    assert outcome.status_code is None
    assert outcome.error is not None
    assert "loopback address 127.0.0.1" in outcome.error
    assert not outcome.delivered


@pytest.mark.parametrize(
    ("url", "address", "target", "host", "sni"),
    [
        ("https://hooks.example.org/in?x=1", "93.184.215.14", "https://93.184.215.14/in?x=1",
         "hooks.example.org", "hooks.example.org"),
        ("http://hooks.example.org:8080/in", "2606:2800:21f:cb07::1",
         "http://[2606:2800:21f:cb07::1]:8080/in", "hooks.example.org:8080", None),
    ],
)  # fmt: skip
def test_the_request_goes_to_the_checked_address_under_the_original_name(
    url: str, address: str, target: str, host: str, sni: str | None
) -> None:
    import ipaddress

    pinned, headers, extensions = sender._pinned(
        sender.parse_url(url), ipaddress.ip_address(address)
    )
    assert pinned == target
    assert headers == {"Host": host}
    assert extensions.get("sni_hostname") == sni


TRICKLED = {
    "headers": b"HTTP/1.1 200 OK\r\n",
    "body": b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n",
    "nothing (TLS)": b"",
}


@pytest.mark.parametrize("part", TRICKLED)
def test_an_attempt_ends_at_its_deadline_whatever_the_receiver_sends(part: str) -> None:
    """httpx's timeout bounds each read: a byte every 0.2 s would keep a request going for
    ever. The deadline is the whole attempt's."""
    scheme = "https" if "TLS" in part else "http"
    with trickling(TRICKLED[part], every=None if "TLS" in part else 0.2) as port:
        started = time.monotonic()
        outcome = sender.post(
            f"{scheme}://127.0.0.1:{port}/hook", b"{}", {}, timeout=1, allow_private=True
        )
        took = time.monotonic() - started
    assert took < 1.5
    if part == "body":
        # The status came in time: a body slow to come is not waited for.
        assert outcome == sender.Outcome(200, None)
    else:
        assert outcome == sender.Outcome(None, "timed out after 1 s")


def test_a_slow_name_lookup_counts_against_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    def slow(*args: Any, **kwargs: Any) -> list[Any]:
        time.sleep(2)
        return []

    monkeypatch.setattr(socket, "getaddrinfo", slow)
    started = time.monotonic()
    outcome = sender.post("http://hooks.example.org/in", b"{}", {}, timeout=0.3, allow_private=True)
    assert time.monotonic() - started < 0.8
    assert outcome == sender.Outcome(None, "timed out after 0.3 s")


@pytest.mark.parametrize("control", ["\r\n", "\t", "\x00", "\x7f"])
def test_a_url_holding_a_control_character_is_refused(control: str) -> None:
    """urlsplit drops tabs and line breaks: the URL sent to would not be the one shown."""
    url = f"https://93.184.215.14/in{control}X-Injected: 1/end"
    with pytest.raises(sender.RefusedTarget, match="control character"):
        sender.parse_url(url)
    outcome = sender.post(url, b"{}", {}, timeout=1, allow_private=True)
    assert outcome.status_code is None
    assert "control character" in (outcome.error or "")

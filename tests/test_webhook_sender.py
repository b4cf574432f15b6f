"""The sender's address checks and pinning, without a network: name resolution is replaced."""

import socket
from typing import Any

import pytest

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

"""HTTP caching, CORS and compression of the public log."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from log_factories import hertfordshire, publish
from sqlmodel import Session

from app.config import get_settings
from app.models import DisclosureEntry

LOG = "/v1/disclosure-log"


@pytest.fixture
def herts(session: Session) -> DisclosureEntry:
    return hertfordshire(session)


def paths(entry: DisclosureEntry) -> list[str]:
    return [
        LOG,
        f"{LOG}?q=facial&force=hertfordshire",
        f"{LOG}/{entry.id}",
        "/v1/forces/hertfordshire/references/FOI2018/02892",
    ]


def test_public_gets_send_etag_and_revalidate(client: TestClient, herts: DisclosureEntry) -> None:
    for path in paths(herts):
        first = client.get(path)
        assert first.status_code == 200
        etag = first.headers["etag"]
        assert etag.removeprefix("W/").startswith('"')
        assert first.headers["cache-control"] == "public, max-age=60"
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == etag
        strong = etag.removeprefix("W/")
        weak = client.get(path, headers={"If-None-Match": f'"other", W/{strong}'})
        assert weak.status_code == 304
        assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


def test_etag_changes_with_the_log(
    client: TestClient, session: Session, herts: DisclosureEntry
) -> None:
    before = client.get(LOG).headers["etag"]
    assert client.get(LOG).headers["etag"] == before
    publish(session, title="Something new")
    after = client.get(LOG, headers={"If-None-Match": before})
    assert after.status_code == 200
    assert after.headers["etag"] != before


def test_a_304_of_a_page_refreshes_what_a_cache_stored(
    client: TestClient, session: Session
) -> None:
    # The log answers 304 before choosing the page, so without its Link: a cache keeps the
    # stored response's headers and updates only those a 304 sends (RFC 9111 4.3.4).
    publish(session)
    publish(session)
    first = client.get(LOG, params={"limit": 1})
    assert 'rel="next"' in first.headers["link"]
    again = client.get(LOG, params={"limit": 1}, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    for name in ("etag", "cache-control", "vary"):
        assert again.headers[name] == first.headers[name]


@pytest.fixture
def max_age_300(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("FOILOG_CACHE_MAX_AGE", "300")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def test_max_age_is_configurable(
    client: TestClient, herts: DisclosureEntry, max_age_300: None
) -> None:
    for path in paths(herts):
        assert client.get(path).headers["cache-control"] == "public, max-age=300"


def test_cors_allows_get_from_any_origin(client: TestClient, herts: DisclosureEntry) -> None:
    origin = {"Origin": "https://www.herts.police.uk"}
    for path in paths(herts):
        response = client.get(path, headers=origin)
        assert response.headers["access-control-allow-origin"] == "*"
        assert "Link" in response.headers["access-control-expose-headers"]
    preflight = client.options(
        LOG,
        headers={
            **origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "If-None-Match",
        },
    )
    assert preflight.status_code == 200
    assert "GET" in preflight.headers["access-control-allow-methods"]


def test_large_pages_are_gzipped_when_asked(client: TestClient, session: Session) -> None:
    for _ in range(3):
        publish(session, text="facial recognition " * 100)
    gzipped = client.get(LOG, headers={"Accept-Encoding": "gzip"})
    assert gzipped.headers["content-encoding"] == "gzip"
    assert len(gzipped.json()["items"]) == 3
    plain = client.get(LOG, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers


def test_compressed_and_plain_answers_are_tagged_apart_and_vary_once(
    client: TestClient, session: Session
) -> None:
    entry = publish(session, text="facial recognition " * 100)
    origin = {"Origin": "https://www.herts.police.uk"}
    for path in (LOG, f"{LOG}/{entry.id}", f"{LOG}.ndjson"):
        gzipped = client.get(path, headers={"Accept-Encoding": "gzip", **origin})
        plain = client.get(path, headers={"Accept-Encoding": "identity", **origin})
        assert gzipped.headers["content-encoding"] == "gzip"
        # One strong tag promises the same bytes: the gzip body's tag is weak.
        assert gzipped.headers["etag"].startswith("W/")
        assert not plain.headers["etag"].startswith("W/")
        for response in (gzipped, plain):
            named = [name.strip().lower() for name in response.headers["vary"].split(",")]
            assert sorted(named) == ["accept-encoding", "origin"]
        again = client.get(
            path,
            headers={"Accept-Encoding": "gzip", "If-None-Match": gzipped.headers["etag"]},
        )
        assert again.status_code == 304
        assert again.headers["etag"] == gzipped.headers["etag"]


def test_errors_are_not_cached_publicly(client: TestClient) -> None:
    response = client.get(f"{LOG}/12345")
    assert response.status_code == 404
    assert "public" not in response.headers.get("cache-control", "")
    assert "etag" not in response.headers

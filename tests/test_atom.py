from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
import pytest
from fastapi.testclient import TestClient
from log_factories import Spec, hertfordshire, publish
from sqlmodel import Session

from app.config import get_settings
from app.db import utcnow
from app.feeds import service as feeds

ATOM_TYPE = "application/atom+xml"


def feed(client: TestClient, **params: Any) -> Any:
    response = client.get("/v1/disclosure-log.atom", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == ATOM_TYPE
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.bozo_exception
    assert parsed.version == "atom10"
    return parsed


def test_an_entry_links_to_its_json_and_summarises_the_response(
    client: TestClient, session: Session
) -> None:
    entry = hertfordshire(session)
    parsed = feed(client)
    [item] = parsed.entries
    base = "http://testserver"  # FOILOG_BASE_URL unset: the address the request reached
    assert item.id == f"{base}/v1/disclosure-log/{entry.id}"
    assert item.title == "Facial image database and facial recognition"
    links = {link.type: (link.rel, link.href) for link in item.links}
    assert links == {
        "application/json": ("alternate", item.id),
        "text/html": ("alternate", f"{base}/disclosure-log/{entry.id}"),
    }
    assert item.author == "Hertfordshire Constabulary"
    assert item.published == "2018-06-27T09:00:00Z"
    assert item.updated == entry.updated_at.isoformat().replace("+00:00", "Z")
    assert [tag.term for tag in item.tags] == ["facial-recognition", "biometrics"]
    assert item.summary == (
        "Hertfordshire Constabulary, reference FOI2018/02892; received 2018-05-29, answered "
        "2018-06-18 (on time); outcome: neither confirm nor deny; exemptions: foia-s24 "
        "(National security), foia-s31 (Law enforcement)."
    )
    assert parsed.feed.id == f"{base}/v1/disclosure-log.atom"
    assert parsed.feed.updated == item.updated
    # The entry's link serves the document the feed summarises.
    assert client.get(f"/v1/disclosure-log/{entry.id}").json()["reference"] == "FOI2018/02892"


def test_the_feed_holds_the_newest_50_newest_first(client: TestClient, session: Session) -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    entries = [publish(session, published_at=start + timedelta(hours=n)) for n in range(53)]
    ids = [e.id for e in feed(client).entries]
    expected = [e.id for e in reversed(entries)][: feeds.FEED_SIZE]
    assert ids == [f"http://testserver/v1/disclosure-log/{n}" for n in expected]


def test_the_feed_takes_the_log_filters(client: TestClient, session: Session) -> None:
    publish(session, Spec(force="hertfordshire", title="Drones over Hertford"))
    publish(session, Spec(force="hertfordshire", title="Tasers in Hertford"))
    publish(session, Spec(force="metropolitan", title="Tasers in London"))
    parsed = feed(client, force="hertfordshire", q="tasers")
    assert [e.title for e in parsed.entries] == ["Tasers in Hertford"]
    assert parsed.feed.id.endswith("/v1/disclosure-log.atom?force=hertfordshire&q=tasers")
    problem = client.get("/v1/disclosure-log.atom", params={"topic": "no-such-topic"})
    assert problem.status_code == 400
    assert problem.headers["content-type"] == "application/problem+json"


def test_an_empty_feed_is_still_valid_atom(client: TestClient) -> None:
    parsed = feed(client)
    assert parsed.entries == []
    assert parsed.feed.updated == "1970-01-01T00:00:00Z"


def test_the_feed_is_cacheable_and_changes_when_the_log_does(
    client: TestClient, session: Session
) -> None:
    publish(session)
    first = client.get("/v1/disclosure-log.atom")
    assert first.headers["cache-control"] == "public, max-age=60"
    same = client.get("/v1/disclosure-log.atom", headers={"If-None-Match": first.headers["etag"]})
    assert same.status_code == 304
    publish(session, published_at=utcnow() - timedelta(minutes=1))
    changed = client.get(
        "/v1/disclosure-log.atom", headers={"If-None-Match": first.headers["etag"]}
    )
    assert changed.status_code == 200


@pytest.mark.parametrize("title", ["Tom & Jerry <script>alert(1)</script>", "Ünïcödé — “quotes”"])
def test_titles_are_escaped_not_markup(client: TestClient, session: Session, title: str) -> None:
    publish(session, Spec(title=title))
    [item] = feed(client).entries
    assert item.title == title
    assert b"<script>" not in client.get("/v1/disclosure-log.atom").content


def test_a_feed_names_what_it_is_filtered_by(client: TestClient, session: Session) -> None:
    hertfordshire(session)
    assert feed(client).feed.title == "UK police FOI disclosure log"
    parsed = feed(client, force="hertfordshire", topic="biometrics", q="facial")
    assert parsed.feed.title == (
        "UK police FOI disclosure log: Hertfordshire Constabulary; topic Biometrics; "
        "matching “facial”"
    )
    parsed = feed(client, force=["hertfordshire", "metropolitan"], outcome="refused")
    assert parsed.feed.title == (
        "UK police FOI disclosure log: Hertfordshire Constabulary or Metropolitan Police "
        "Service; outcome refused"
    )
    parsed = feed(client, exemption="foia-s24", law="foia")
    assert parsed.feed.title == (
        "UK police FOI disclosure log: citing foia-s24 (National security); law FOIA"
    )


def test_links_use_the_configured_base_url_when_set(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = publish(session)
    monkeypatch.setenv("FOILOG_BASE_URL", "https://foi.example.police.uk/")
    get_settings.cache_clear()
    try:
        [item] = feed(client).entries
    finally:
        monkeypatch.delenv("FOILOG_BASE_URL")
        get_settings.cache_clear()
    assert item.id == f"https://foi.example.police.uk/v1/disclosure-log/{entry.id}"


def test_next_page_links_use_the_configured_base_url_when_set(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Behind a proxy the request's own host is the upstream's; every absolute link says where
    # the public reaches the log.
    publish(session)
    publish(session)
    monkeypatch.setenv("FOILOG_BASE_URL", "https://foi.example.police.uk/")
    get_settings.cache_clear()
    try:
        upstream = {"Host": "foilog-upstream:8000"}
        log = client.get("/v1/disclosure-log?limit=1&force=metropolitan", headers=upstream)
        changes = client.get("/v1/changes?limit=1", headers=upstream)
    finally:
        monkeypatch.delenv("FOILOG_BASE_URL")
        get_settings.cache_clear()
    cursor = log.json()["next_cursor"]
    assert log.headers["link"] == (
        "<https://foi.example.police.uk/v1/disclosure-log?limit=1&force=metropolitan"
        f'&cursor={cursor}>; rel="next"'
    )
    assert changes.headers["link"].startswith("<https://foi.example.police.uk/v1/changes?")


def test_links_follow_the_address_served_when_no_base_url_is_set(
    client: TestClient, session: Session
) -> None:
    entry = publish(session)
    response = client.get("http://127.0.0.1:8123/v1/disclosure-log.atom")
    [item] = feedparser.parse(response.content).entries
    assert item.id == f"http://127.0.0.1:8123/v1/disclosure-log/{entry.id}"
    csv_text = client.get("http://127.0.0.1:8123/v1/disclosure-log.csv").text
    assert f"http://127.0.0.1:8123/v1/disclosure-log/{entry.id}" in csv_text

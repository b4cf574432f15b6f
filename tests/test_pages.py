"""The HTML pages over HTTP: status codes, validators, headers, what each page holds."""

import os
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient
from log_factories import REQUESTER_EMAIL, REQUESTER_NAME, Spec, hertfordshire, publish, withdraw
from sqlmodel import Session

from app.db import utcnow
from app.disclosure_log import service
from app.migrate import upgrade

PROBLEM = "application/problem+json"


def page(client: TestClient, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    return response.text


def test_pages_answer_if_none_match_with_304_until_the_log_changes(
    client: TestClient, session: Session
) -> None:
    entry = hertfordshire(session)
    for url in ("/disclosure-log", f"/disclosure-log/{entry.id}", "/forces/hertfordshire"):
        first = client.get(url)
        assert first.headers["cache-control"] == "public, max-age=60"
        again = client.get(url, headers={"If-None-Match": first.headers["etag"]})
        assert (again.status_code, again.content) == (304, b""), url
    before = client.get("/disclosure-log").headers["etag"]
    publish(session, title="Speed cameras", published_at=utcnow() - timedelta(minutes=1))
    changed = client.get("/disclosure-log", headers={"If-None-Match": before})
    assert changed.status_code == 200
    assert "Speed cameras" in changed.text
    for asset in ("/embed.js", "/static/foilog.css", "/docs", "/static/docs/swagger-ui.css"):
        first = client.get(asset)
        assert first.status_code == 200, asset
        again = client.get(asset, headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304, asset


def test_a_page_the_client_holds_answers_304_before_anything_is_computed(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = hertfordshire(session)
    urls = ("/disclosure-log?topic=facial-recognition", f"/disclosure-log/{entry.id}")
    held = {url: client.get(url).headers["etag"] for url in urls}

    def computed(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the page was computed for a tag the client holds")

    monkeypatch.setattr(service, "list_entries", computed)
    monkeypatch.setattr(service, "get_document", computed)
    for url in urls:
        again = client.get(url, headers={"If-None-Match": held[url]})
        assert (again.status_code, again.headers["etag"]) == (304, held[url]), url


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("force=gotham", "'gotham'"),
        ("force=%3Cscript%3Ex%3C/script%3E", "&lt;script&gt;x&lt;/script&gt;"),
        ("topic=no-such-topic", "'no-such-topic'"),
        ("outcome=maybe", "'maybe'"),
        ("exemption=foia-s99", "'foia-s99'"),
        ("received_from=yesterday", "'yesterday'"),
        ("published_to=2024-02-31", "'2024-02-31'"),
        ("limit=0", "`limit` '0'"),
        ("limit=many", "'many'"),
        ("sort=sideways", "'sideways'"),
        ("cursor=not-a-cursor", "'not-a-cursor'"),
        ("sort=relevance", "give `q` too"),
        ("q=-covert", "the query `q` only excludes words"),
    ],
)
def test_a_bad_parameter_is_a_400_page_naming_it(
    client: TestClient, session: Session, query: str, named: str
) -> None:
    hertfordshire(session)
    text = page(client, f"/disclosure-log?{query}", 400)
    assert named.replace("'", "&#39;") in text or named in text
    assert "<h1>Bad request</h1>" in text
    assert "Traceback" not in text
    assert "<script>" not in text


BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@pytest.mark.parametrize(
    ("page_url", "api_url", "status", "said"),
    [
        # A path that is no page: a mistyped or stale link.
        ("/disclosure-logs/<b>1</b>", "/v1/nothing-here", 404, "/disclosure-logs/&lt;b&gt;1"),
        # A control character, refused before any route.
        ("/disclosure-log?q=%00", "/v1/disclosure-log?q=%00", 400, "holds the character"),
        ("/forces/%01", "/v1/forces/%01", 400, "holds the character"),
    ],
)
def test_an_error_before_any_route_is_a_page_for_a_browser(
    client: TestClient, page_url: str, api_url: str, status: int, said: str
) -> None:
    response = client.get(page_url, headers=BROWSER)
    assert response.status_code == status
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert said in response.text
    assert "Traceback" not in response.text
    for url, headers in ((page_url, {}), (api_url, BROWSER)):
        api = client.get(url, headers=headers)
        assert (api.status_code, api.headers["content-type"]) == (status, PROBLEM), url


def test_an_empty_form_field_means_any(client: TestClient, session: Session) -> None:
    hertfordshire(session)
    text = page(client, "/disclosure-log?q=&force=&topic=&received_from=&sort=")
    assert "1 entry matches" in text


def test_a_topic_asked_in_another_case_stays_chosen_in_the_form(
    client: TestClient, session: Session
) -> None:
    # Sending the form again (to add a word) must keep the topic the link asked for.
    publish(session, Spec(topics=["drones"]))
    text = page(client, "/disclosure-log?topic=Drones")
    assert "1 entry matches" in text
    assert '<option value="drones" selected>' in text


def test_pages_have_an_icon_of_their_own(client: TestClient) -> None:
    # Without one a browser asks for /favicon.ico on every page, and meets a 404.
    assert '<link rel="icon" href="/static/favicon.svg"' in page(client, "/disclosure-log")
    icon = client.get("/static/favicon.svg")
    assert (icon.status_code, icon.headers["content-type"]) == (200, "image/svg+xml")
    assert icon.text.startswith("<svg")


def test_the_front_page_is_the_log(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (307, "/disclosure-log")


def test_a_link_to_the_front_page_with_a_search_lands_on_that_search(
    client: TestClient, session: Session
) -> None:
    publish(session, title="Drones", text="How many drones does the force fly?")
    publish(session, title="Horses", text="How many horses does the force keep?")
    response = client.get("/?q=drones&sort=-published_at", follow_redirects=False)
    location = response.headers["location"]
    assert (response.status_code, location) == (307, "/disclosure-log?q=drones&sort=-published_at")
    assert "1 entry matches" in page(client, location)


def test_unknown_entries_and_forces_are_404_pages(client: TestClient) -> None:
    assert "no published entry with id 999" in page(client, "/disclosure-log/999", 404)
    assert "gotham" in page(client, "/forces/gotham", 404)
    page(client, "/disclosure-log/0", 400)


def test_a_withdrawn_entry_is_a_410_page_saying_when_and_why(
    client: TestClient, session: Session
) -> None:
    entry = publish(session, title="Published in error", text="secret words")
    withdraw(session, entry, reason="It named a member of staff.")
    text = page(client, f"/disclosure-log/{entry.id}", 410)
    assert "It named a member of staff." in text
    assert "was withdrawn from the disclosure log on" in text
    withdrawn = entry.withdrawn_at
    assert withdrawn is not None
    assert f">{withdrawn.day} {withdrawn:%B %Y}, " in text
    assert "secret words" not in text
    assert "Published in error" not in text


def test_embed_drops_the_header_and_footer_and_keeps_itself_in_links(
    client: TestClient, session: Session
) -> None:
    entry = hertfordshire(session)
    whole = page(client, "/disclosure-log")
    framed = page(client, "/disclosure-log?embed=1")
    assert '<header class="site">' in whole
    assert "<footer" in whole
    assert '<header class="site">' not in framed
    assert "<footer" not in framed
    assert f'href="/disclosure-log/{entry.id}?embed=1"' in framed
    assert "<header" not in page(client, f"/disclosure-log/{entry.id}?embed=1")


def test_the_log_advertises_its_atom_feed_with_the_same_filters(
    client: TestClient, session: Session
) -> None:
    hertfordshire(session)
    text = page(client, "/disclosure-log?q=facial&topic=biometrics&limit=5")
    assert (
        '<link rel="alternate" type="application/atom+xml" title="UK police FOI disclosure log: '
        'topic Biometrics; matching \u201cfacial\u201d" '
        'href="http://testserver/v1/disclosure-log.atom?q=facial&amp;topic=biometrics">'
    ) in text
    force_page = page(client, "/forces/hertfordshire")
    assert "/v1/disclosure-log.atom?force=hertfordshire" in force_page
    assert "<h1>Hertfordshire Constabulary: FOI disclosure log</h1>" in force_page


def test_the_force_page_fixes_its_force(client: TestClient, session: Session) -> None:
    hertfordshire(session)
    publish(session, Spec(force="metropolitan", title="Tasers in London"))
    text = page(client, "/forces/hertfordshire?force=metropolitan")
    assert "Facial image database" in text
    assert "Tasers in London" not in text


def test_pages_follow_the_cursor(client: TestClient, session: Session) -> None:
    for n in range(5):
        publish(session, title=f"Fleet {n}", published_at=utcnow() - timedelta(hours=n + 1))
    seen: list[str] = []
    url: str | None = "/disclosure-log?limit=2"
    while url:
        text = page(client, url)
        seen += [f"Fleet {n}" for n in range(5) if f">Fleet {n}<" in text]
        marker = '<a rel="next" href="'
        url = text.split(marker)[1].split('"')[0].replace("&amp;", "&") if marker in text else None
    assert seen == [f"Fleet {n}" for n in range(5)]


def test_no_page_shows_the_requester(client: TestClient, session: Session) -> None:
    entry = hertfordshire(session)
    gone = publish(session, title="Gone")
    withdraw(session, gone)
    urls = [
        "/disclosure-log",
        f"/disclosure-log?q={REQUESTER_NAME.split()[1]}",
        f"/disclosure-log/{entry.id}",
        "/forces/hertfordshire",
        f"/disclosure-log/{gone.id}",
        "/disclosure-log?force=nope",
    ]
    for url in urls:
        text = client.get(url).text
        assert REQUESTER_NAME not in text, url
        assert REQUESTER_EMAIL not in text, url


def test_docs_come_from_this_host(client: TestClient) -> None:
    text = client.get("/docs").text
    assert "/static/docs/swagger-ui-bundle.js" in text
    assert "http" not in text.replace("http-equiv", "")
    assert "default-src 'none'" in client.get("/docs").headers["content-security-policy"]
    bundle = client.get("/static/docs/swagger-ui-bundle.js")
    assert bundle.status_code == 200
    assert len(bundle.content) > 100_000
    assert client.get("/redoc").status_code == 404
    assert client.get("/static/docs/../../config.py").status_code == 404


def test_highlights_can_carry_only_mark(client: TestClient, session: Session) -> None:
    publish(session, title="<script>alert(1)</script> drones", text="drones <b>bold</b>")
    text = page(client, "/disclosure-log?q=drones")
    assert "<script>alert" not in text
    assert "<b>bold" not in text
    assert "<mark>" in text


def test_the_entry_page_lists_attachments_and_a_round_robin_when_the_document_has_them(
    client: TestClient, session: Session
) -> None:
    entry = hertfordshire(session)
    assert "Attachments" not in page(client, f"/disclosure-log/{entry.id}")
    document = orjson.loads(entry.document)
    document["attachments"] = [
        {
            "id": 7,
            "filename": "response-letter.pdf",
            "media_type": "application/pdf",
            "bytes": 48_213,
            "sha256": "ab" * 32,
            "url": "http://testserver/v1/attachments/7/response-letter.pdf",
        }
    ]
    document["round_robin"] = {"id": 3, "size": 12}
    entry.document = orjson.dumps(document).decode()
    session.add(entry)
    session.commit()
    text = page(client, f"/disclosure-log/{entry.id}")
    assert (
        '<a href="http://testserver/v1/attachments/7/response-letter.pdf">'
        "<bdi>response-letter.pdf</bdi></a>"
        ' <span class="meta">(application/pdf, 47.1 KB)</span>'
    ) in text
    assert "The same request went to 12 bodies" in text


def test_foilog_serve_links_to_the_port_it_serves(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'served.db'}"
    upgrade(database_url)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "FOILOG_BASE_URL"}
    env["FOILOG_DATABASE_URL"] = database_url
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                feed = httpx.get(f"{url}/v1/disclosure-log.atom?force=hertfordshire", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "foilog serve did not come up"
                time.sleep(0.2)
        assert f"<id>{url}/v1/disclosure-log.atom?force=hertfordshire</id>" in feed.text
        log = httpx.get(f"{url}/disclosure-log?force=hertfordshire").text
        assert f'href="{url}/v1/disclosure-log.atom?force=hertfordshire"' in log
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_request_text_that_only_repeats_its_questions_is_shown_once(
    client: TestClient, session: Session
) -> None:
    questions = ["How many cars?", "How many vans?"]
    quoted = publish(
        session, Spec(text="1. How many cars?\n2. How many vans?", questions=questions)
    )
    own = publish(session, Spec(text="Figures on the fleet, please.", questions=questions))
    assert "1. How many cars? 2. How many vans?" not in page(client, f"/disclosure-log/{quoted.id}")
    assert page(client, f"/disclosure-log/{quoted.id}").count("How many cars?") == 1
    assert "<p>Figures on the fleet, please.</p>" in page(client, f"/disclosure-log/{own.id}")

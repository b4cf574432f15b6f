import orjson
import pytest
from factories import auth, hertfordshire_request_body, make_key
from fastapi.testclient import TestClient
from sqlmodel import Session

PROBLEM = "application/problem+json"
PROBLEM_KEYS = {"type", "title", "status", "detail"}


def test_unknown_route_is_problem_json(client: TestClient) -> None:
    response = client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert set(response.json()) >= PROBLEM_KEYS


def test_wrong_method_is_problem_json(client: TestClient) -> None:
    response = client.delete("/v1/forces")
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["status"] == 405
    assert response.headers["allow"] == "GET, HEAD"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/v1/requests", "GET, HEAD, POST"),
        ("DELETE", "/v1/disclosure-log/1", "GET, HEAD, PATCH"),
        ("GET", "/v1/import", "POST"),
        ("HEAD", "/v1/import", "POST"),
        ("POST", "/embed.js", "GET, HEAD"),
        ("POST", "/static/foilog.css", "GET, HEAD"),
        ("POST", "/docs", "GET, HEAD"),
    ],
)
def test_a_405_names_every_method_the_path_serves(
    client: TestClient, method: str, path: str, allowed: str
) -> None:
    response = client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed


@pytest.mark.parametrize(
    "path",
    [
        "/healthz",
        "/v1/forces",
        "/v1/disclosure-log?force=hertfordshire",
        "/v1/disclosure-log.csv",
        "/disclosure-log",
        "/v1/disclosure-log/999",
    ],
)
def test_head_answers_as_get_without_content(client: TestClient, path: str) -> None:
    got = client.get(path, headers={"Accept-Encoding": "identity"})
    head = client.head(path, headers={"Accept-Encoding": "identity"})
    assert head.status_code == got.status_code
    assert head.content == b""
    for name in ("content-type", "etag", "content-length", "cache-control"):
        assert head.headers.get(name) == got.headers.get(name), name
    if "etag" in got.headers:
        again = client.head(path, headers={"If-None-Match": got.headers["etag"]})
        assert (again.status_code, again.content) == (304, b"")


def test_head_is_no_way_around_a_missing_get(client: TestClient) -> None:
    response = client.head("/v1/import")
    assert response.status_code == 405
    assert response.content == b""


@pytest.mark.parametrize(
    ("url", "twice"),
    [
        ("/v1/disclosure-log?limit=2&limit=30", ["limit"]),
        ("/v1/disclosure-log?sort=newest&q=a&sort=relevance&q=b", ["q", "sort"]),
        ("/v1/stats?law=FOIA&law=EIR", ["law"]),
        ("/v1/changes?limit=1&limit=5", ["limit"]),
    ],
)
def test_a_one_value_parameter_given_twice_is_a_400(
    client: TestClient, url: str, twice: list[str]
) -> None:
    response = client.get(url)
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    assert [error["loc"] for error in response.json()["errors"]] == [["query", n] for n in twice]
    page = client.get(url.removeprefix("/v1"), headers={"Accept": "text/html"})
    if page.status_code != 404:  # the pages that exist say the same in HTML
        assert page.status_code == 400
        assert "given more than once" in page.text


@pytest.mark.parametrize(
    ("url", "unknown"),
    [
        ("/v1/stats?frce=kent", ["frce"]),  # counted the whole log
        ("/v1/changes?cursor=WzFd", ["cursor"]),  # the feed's is `since`: read from its start
        ("/v1/disclosure-log.csv?limt=5", ["limt"]),
        ("/v1/disclosure-log?Force=kent&force%5B%5D=essex", ["Force", "force[]"]),
        ("/v1/exemptions?lw=FOIA", ["lw"]),
    ],
)
def test_an_api_parameter_no_route_reads_is_a_400_naming_it(
    client: TestClient, url: str, unknown: list[str]
) -> None:
    response = client.get(url)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == PROBLEM
    assert [error["loc"] for error in response.json()["errors"]] == [["query", n] for n in unknown]
    assert "not a query parameter of this route" in response.json()["detail"]


@pytest.mark.parametrize(
    "path",
    ["/v1/disclosure-log.atom", "/v1/disclosure-log.csv", "/v1/disclosure-log.ndjson", "/v1/stats"],
)
def test_the_feeds_exports_and_stats_take_the_logs_own_parameters(
    client: TestClient, path: str
) -> None:
    # SPEC §4 lists sort, limit, cursor and count among their filters: a log's address made a
    # feed's still answers (they are not applied: a feed holds the newest 50, an export all).
    query = {"sort": "relevance", "q": "drones", "limit": "5", "count": "true", "cursor": "x"}
    assert client.get(path, params=query).status_code == 200


def test_a_page_leaves_parameters_it_does_not_read_alone(client: TestClient) -> None:
    # Links from a force's site carry its own (campaign tags and the like).
    page = client.get("/disclosure-log?utm_source=force-site&force=kent")
    assert page.status_code == 200


def test_a_repeatable_parameter_may_be_repeated(client: TestClient) -> None:
    for url in (
        "/v1/disclosure-log?force=kent&force=hertfordshire",
        "/disclosure-log?force=kent&force=hertfordshire",
    ):
        assert client.get(url).status_code == 200, url


def test_a_missing_page_varies_by_accept(client: TestClient) -> None:
    """The same URL is a page for a browser and problem+json for the rest: a cache must know."""
    for accept in ("text/html", "application/json"):
        response = client.get("/no-such-page", headers={"Accept": accept})
        assert response.status_code == 404
        assert "Accept" in response.headers["vary"]


def test_validation_errors_are_reshaped(client: TestClient) -> None:
    response = client.get("/v1/exemptions", params={"law": "x" * 50})
    assert response.status_code == 422
    body = response.json()
    assert response.headers["content-type"] == PROBLEM
    assert set(body) >= PROBLEM_KEYS
    assert body["errors"][0]["loc"] == ["query", "law"]
    assert body["errors"][0]["msg"]


def test_public_gets_are_cacheable_and_revalidate(client: TestClient) -> None:
    first = client.get("/v1/forces")
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=60"
    again = client.get("/v1/forces", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    stale = client.get("/v1/forces", headers={"If-None-Match": '"other"'})
    assert stale.status_code == 200


@pytest.mark.parametrize(
    ("path", "accept", "status"),
    [
        ("/v1/forces/nowhere", "application/json", 404),
        ("/forces/nowhere", "text/html", 404),
        ("/disclosure-log/999999", "text/html", 404),
        ("/v1/disclosure-log.csv?force=nowhere", "text/csv", 400),
        ("/v1/forces", "application/json", 304),
        ("/disclosure-log", "text/html", 304),
    ],
)
def test_if_none_match_any_is_a_304_only_where_there_is_an_answer(
    client: TestClient, path: str, accept: str, status: int
) -> None:
    response = client.get(path, headers={"If-None-Match": "*", "Accept": accept})
    assert response.status_code == status


def test_cors_allows_get_from_anywhere(client: TestClient) -> None:
    response = client.get("/v1/forces", headers={"Origin": "https://example.police.uk"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "ETag" in response.headers["access-control-expose-headers"]


def test_large_bodies_are_gzipped_when_asked(client: TestClient) -> None:
    response = client.get("/v1/exemptions", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert len(response.json()["items"]) == 61


@pytest.mark.parametrize(
    ("accepted", "gzipped"),
    [
        ("gzip;q=0, identity", False),
        ("identity, GZIP ; Q=0.0", False),
        ("gzip;q=0.5", True),
        ("br, gzip", True),
        ("gzip;q=bad", True),
    ],
)
def test_a_refusal_of_gzip_is_honoured(client: TestClient, accepted: str, gzipped: bool) -> None:
    response = client.get("/v1/exemptions", headers={"Accept-Encoding": accepted})
    assert (response.headers.get("content-encoding") == "gzip") is gzipped
    assert "Accept-Encoding" in response.headers["vary"]
    assert len(response.json()["items"]) == 61


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["revision"]


def test_openapi_and_docs(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert "/v1/forces" in schema["paths"]
    assert client.get("/docs").status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/v1/disclosure-log?reference=%00",
        "/v1/disclosure-log.atom?force=%00",
        "/v1/disclosure-log.ndjson?topic=a%00b",
        "/v1/stats?q=%00",
        "/v1/forces/%00",
        "/v1/forces/hertfordshire/references/FOI%00",
    ],
)
def test_nul_in_a_url_is_a_400(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    assert "NUL" in response.json()["detail"]


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("/v1/stats%0A", "U+000A"),
        ("/v1/disclosure-log.csv%0A", "U+000A"),
        ("/v1/forces/hertfordshire/references/FOI%0D/2018", "U+000D"),
        ("/v1/forces/hertfordshire%09", "U+0009"),
    ],
)
def test_a_line_break_in_a_path_is_a_400(client: TestClient, url: str, code: str) -> None:
    """A route's pattern would match `/v1/stats` followed by a line feed (`$` lets one end it)."""
    response = client.get(url)
    assert response.status_code == 400
    assert code in response.json()["detail"]


def test_nul_in_a_json_body_is_a_422(client: TestClient, session: Session) -> None:
    key = make_key(session)
    session.commit()
    body = hertfordshire_request_body(title="Facial\u0000recognition")
    response = client.post("/v1/requests", json=body, headers=auth(key))
    assert response.status_code == 422
    assert "NUL" in response.json()["errors"][0]["msg"]


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b'{"force": "hertfordshire", "title": "caf\xe9"}', "not UTF-8 (an invalid byte at offset"),
        (b"[" * 3000 + b"]" * 3000, "nested too deeply"),
    ],
)
def test_a_body_that_cannot_be_read_says_why(
    client: TestClient, session: Session, body: bytes, said: str
) -> None:
    headers = {**auth(make_key(session)), "Content-Type": "application/json"}
    response = client.post("/v1/requests", content=body, headers=headers)
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    assert said in response.json()["detail"]


def test_json_sent_as_another_type_says_so(client: TestClient, session: Session) -> None:
    headers = {**auth(make_key(session)), "Content-Type": "text/plain"}
    body = orjson.dumps(hertfordshire_request_body())
    response = client.post("/v1/requests", content=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "the body must be JSON sent as application/json, not text/plain"
    )
    unlabelled = client.post("/v1/requests", content=body, headers=auth(make_key(session)))
    assert unlabelled.json()["detail"] == (
        "the body must be JSON sent as application/json, and the request had no Content-Type"
    )


def test_malformed_json_says_where_in_the_body(client: TestClient, session: Session) -> None:
    # The error's place is a character offset, which "invalid input at body.17" read as a field.
    headers = {**auth(make_key(session)), "Content-Type": "application/json"}
    response = client.post("/v1/requests", content=b'{"force": "kent", x}', headers=headers)
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "the body is not valid JSON: Expecting property name enclosed in double quotes at "
        "character 18"
    )


@pytest.mark.parametrize(
    "path",
    ["/v1/disclosure-log", "/v1/requests", "/v1/audit", "/v1/webhooks", "/v1/round-robins"],
)
def test_every_list_has_one_shape(client: TestClient, session: Session, path: str) -> None:
    # SPEC §3: {"items", "next_cursor"}, and "total" with count=true.
    headers = auth(make_key(session))
    session.commit()
    assert client.get(path, headers=headers).json().keys() == {"items", "next_cursor"}
    counted = client.get(path, params={"count": "true"}, headers=headers).json()
    assert counted.keys() == {"items", "next_cursor", "total"}

import csv
import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import factories
import orjson
import pytest
from fastapi.testclient import TestClient
from instances import Instance, serve
from log_factories import Cite, Spec, publish
from sqlmodel import Session
from typer.testing import CliRunner

from app.cli import cli
from app.exports import service as exports
from app.links import SERVE_DEFAULT

PROBLEM = "application/problem+json"


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[Instance]:
    with serve(tmp_path) as instance:
        yield instance


def lines(body: bytes) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in body.splitlines()]


def rows(body: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body)))


def test_ndjson_is_every_stored_document_verbatim_across_batches(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    entries = [publish(session, Spec(title=f"Fleet {n}")) for n in range(7)]
    monkeypatch.setattr(exports, "BATCH", 3)
    response = client.get("/v1/disclosure-log.ndjson")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    assert response.headers["cache-control"] == "public, max-age=60"
    assert response.content.splitlines() == [e.document.encode() for e in entries]


def test_exports_take_the_log_filters(client: TestClient, session: Session) -> None:
    publish(session, Spec(force="hertfordshire", title="Drones over Hertford"))
    wanted = publish(session, Spec(force="hertfordshire", title="Tasers in Hertford"))
    publish(session, Spec(force="metropolitan", title="Tasers in London"))
    params = {"force": "hertfordshire", "q": "taser"}
    ndjson = client.get("/v1/disclosure-log.ndjson", params=params)
    assert [d["id"] for d in lines(ndjson.content)] == [wanted.id]
    table = client.get("/v1/disclosure-log.csv", params=params)
    assert [row["id"] for row in rows(table.text)] == [str(wanted.id)]


@pytest.mark.parametrize("path", ["/v1/disclosure-log.ndjson", "/v1/disclosure-log.csv"])
def test_an_unknown_filter_value_is_a_400_before_any_output(client: TestClient, path: str) -> None:
    response = client.get(path, params={"force": "atlantis"})
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    assert "atlantis" in response.json()["detail"]


def test_an_empty_export_is_empty_or_only_a_header(client: TestClient) -> None:
    assert client.get("/v1/disclosure-log.ndjson").content == b""
    assert client.get("/v1/disclosure-log.csv").text == ",".join(exports.CSV_COLUMNS) + "\r\n"


def test_csv_has_a_header_and_one_flat_row_an_entry(client: TestClient, session: Session) -> None:
    entry = publish(
        session,
        Spec(
            force="hertfordshire",
            reference="FOI2018/02892",
            aliases=["HC 2892", "HC-2892"],
            title='Facial recognition, "live" and retrospective',
            outcome="neither_confirm_nor_deny",
            citations=[Cite("foia-s24", "24(2)", True), Cite("foia-s31", "31(3)", True)],
            topics=["facial-recognition", "biometrics"],
            received_on=date(2018, 5, 29),
        ),
    )
    response = client.get("/v1/disclosure-log.csv")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.text.splitlines()[0] == ",".join(exports.CSV_COLUMNS)
    [row] = rows(response.text)
    document = orjson.loads(entry.document)
    assert row == {
        "id": str(entry.id),
        "force": "hertfordshire",
        "law": "FOIA",
        "reference": "FOI2018/02892",
        "aliases": "HC 2892;HC-2892",
        "title": 'Facial recognition, "live" and retrospective',
        "topics": "facial-recognition;biometrics",
        "received_on": "2018-05-29",
        "due_on": "2018-06-26",
        "responded_on": "2018-06-18",
        "responded_within_deadline": "true",
        "outcome": "neither_confirm_nor_deny",
        "exemptions": "foia-s24;foia-s31",
        "published_at": document["published_at"],
        "updated_at": document["updated_at"],
        "url": f"http://testserver/v1/disclosure-log/{entry.id}",  # the address reached
        "attachment_urls": "",
        "attachment_sha256s": "",
    }


def test_csv_cells_never_run_as_spreadsheet_formulas(client: TestClient, session: Session) -> None:
    publish(session, Spec(title='=HYPERLINK("http://evil.example","click")'))
    [row] = rows(client.get("/v1/disclosure-log.csv").text)
    assert row["title"] == '\'=HYPERLINK("http://evil.example","click")'


def test_the_cli_writes_the_same_bytes_as_the_route(
    client: TestClient, session: Session, tmp_path: Path
) -> None:
    for n in range(3):
        publish(session, Spec(title=f"Fleet {n}"))
    for fmt in ("ndjson", "csv"):
        output = tmp_path / f"log.{fmt}"
        result = CliRunner().invoke(cli, ["export", "--format", fmt, "--output", str(output)])
        assert result.exit_code == 0, result.output
        # With FOILOG_BASE_URL unset, the CLI links as `foilog serve` does on its default port.
        served = client.get(f"{SERVE_DEFAULT}/v1/disclosure-log.{fmt}")
        assert output.read_bytes() == served.content
    assert "exported the log as csv" in result.output


def _rich_source(client: TestClient, session: Session) -> None:
    """Entries with every part of the document filled: aliases, topics, questions, answers,
    NCND citations with public interest, signatory, an internal review."""
    key = factories.make_key(session)
    created = factories.create_request(client, key, aliases=["HC/2018/2892"])
    factories.add_response(client, key, created["id"])
    factories.add_response(
        client,
        key,
        created["id"],
        kind="internal_review",
        responded_on="2018-08-01",
        outcome="partially_disclosed",
        citations=[{"exemption": "foia-s31", "provision": "31(1)(a)", "questions": ["2"]}],
    )
    factories.publish(client, key, created["id"])
    publish(
        session,
        Spec(force="police-scotland", title="Cyber crime unit", received_on=date(2023, 12, 20)),
    )
    publish(session, Spec(outcome="not_held", answers=["No information is held."]))


def _without_local_fields(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in ("id", "updated_at")}


def test_an_ndjson_export_imports_into_another_instance_field_by_field(
    client: TestClient, session: Session, mirror: Instance
) -> None:
    _rich_source(client, session)
    exported = client.get("/v1/disclosure-log.ndjson").content
    with mirror.client() as other:
        imported = other.post(
            "/v1/import",
            content=exported,
            headers={**factories.auth(mirror.key), "Content-Type": "application/x-ndjson"},
        )
        assert imported.status_code == 200, imported.text
        assert imported.json() == {"created": 3, "updated": 0, "unchanged": 0}
        again = other.get("/v1/disclosure-log.ndjson").content
    source = {(d["force"], d["reference"]): d for d in lines(exported)}
    copied = {(d["force"], d["reference"]): d for d in lines(again)}
    assert source.keys() == copied.keys()
    for key, document in source.items():
        for field, value in _without_local_fields(document).items():
            assert copied[key][field] == value, (key, field)
        assert set(copied[key]) == set(document)
    herts = copied[("hertfordshire", "FOI2018/02892")]
    assert [r["kind"] for r in herts["responses"]] == ["initial", "internal_review"]
    assert herts["responses"][0]["citations"][0]["public_interest"]["for"]


@pytest.mark.parametrize("path", ["/v1/disclosure-log.ndjson", "/v1/disclosure-log.csv"])
def test_an_unchanged_export_answers_304(client: TestClient, session: Session, path: str) -> None:
    entry = publish(session)
    first = client.get(path)
    tag = {"If-None-Match": first.headers["etag"]}
    again = client.get(path, headers=tag)
    assert again.status_code == 304
    assert again.content == b""
    assert client.get(path, headers=tag, params={"force": "hertfordshire"}).status_code == 200
    key = factories.make_key(session)
    withdrawn = client.post(
        f"/v1/disclosure-log/{entry.id}/withdraw", json={"reason": "x"}, headers=factories.auth(key)
    )
    assert withdrawn.status_code == 200
    assert client.get(path, headers=tag).status_code == 200

"""The two real letters: extracted exactly, imported unchanged, and loaded by the demo without
any date the letter does not print."""

from importlib import resources
from typing import Any

import orjson
import pytest
from factories import auth, hertfordshire_request_body, make_key
from fastapi.testclient import TestClient
from sqlmodel import Session
from typer.testing import CliRunner

from app.cli import cli
from app.demo import ROUND_ROBINS
from app.imports.service import import_entries
from app.keys.schemas import Actor
from app.letters import service
from app.letters.schemas import Extraction

runner = CliRunner()


def _seed(name: str, force: str) -> Extraction:
    data = (resources.files("app.letters") / "seeds" / name).read_bytes()
    return service.extract(data, media_type="text/plain", force=force, max_bytes=10_000_000)


@pytest.fixture(scope="module")
def herts() -> Extraction:
    return _seed("hertfordshire-FOI2018-02892.txt", "hertfordshire")


@pytest.fixture(scope="module")
def met() -> Extraction:
    return _seed("metropolitan-01.FOI.22.022487.txt", "metropolitan")


def _citations(entry: dict[str, Any]) -> list[tuple[str, str, bool]]:
    return [(c["exemption"], c["provision"], c["ncnd"]) for c in entry["responses"][0]["citations"]]


def test_hertfordshire_letter_extracts_exactly(herts: Extraction) -> None:
    entry = herts.entry
    assert (entry["force"], entry["reference"], entry["received_on"]) == (
        "hertfordshire",
        "FOI2018/02892",
        "2018-05-29",
    )
    [response] = entry["responses"]
    assert (response["kind"], response["responded_on"], response["outcome"]) == (
        "initial",
        "2018-06-26",
        "neither_confirm_nor_deny",
    )
    assert _citations(entry) == [("foia-s24", "24(2)", True), ("foia-s31", "31(3)", True)]
    questions = entry["request"]["questions"]
    assert [q["number"] for q in questions] == [str(n) for n in range(1, 18)]
    assert questions[0]["text"] == "Does the Force have a stored database of facial images?"
    assert questions[16]["text"].startswith("Has the force done any testing")
    assert response["signatory"] == {"name": "James Hodson", "role": "Information Rights"}
    for citation in response["citations"]:
        test = citation["public_interest"]
        assert test["for"]
        assert test["against"]
        assert test["balance"].startswith("Any information identifying the focus")
        assert "world at large" in citation["harm"]
    assert herts.confidence["reference"] >= 0.9
    assert not [w for w in herts.warnings if w.startswith(("rule", "import"))]


def test_metropolitan_letter_extracts_exactly_and_says_what_it_lacks(met: Extraction) -> None:
    entry = met.entry
    assert entry["reference"] == "01.FOI.22.022487"
    assert "received_on" not in entry
    [response] = entry["responses"]
    assert "responded_on" not in response
    assert response["outcome"] == "partially_disclosed"
    assert _citations(entry) == [("foia-s22", "22(1)", False)]
    numbers = [q["number"] for q in entry["request"]["questions"]]
    assert numbers == [
        *["1", "2", "3", "4a", "4b", "4c", "5", "5a", "5b", "5c"],
        *["5d", "5d(i)", "5d(ii)", "5e", "6", "7", "8"],
    ]
    answered = [answer["questions"] for answer in response["answers"]]
    assert ["4a", "4b", "4c"] in answered
    assert "28/03/2014" in next(a["text"] for a in response["answers"] if a["questions"] == ["1"])
    assert "signatory" not in response
    joined = " ".join(met.warnings)
    for missing in ("received_on", "responses[0].responded_on", "responses[0].signatory"):
        assert missing in joined
    # The web page's cookie banner is no part of the letter.
    assert "cookie" not in orjson.dumps(entry).decode().lower()


def test_hertfordshire_draft_imports_unchanged(herts: Extraction, session: Session) -> None:
    draft = herts.entry
    result = import_entries(session, [orjson.dumps(draft)], actor=Actor.system("test"))
    assert (result.created, result.updated) == (1, 0)
    from factories import stored_document

    stored = stored_document(1)
    for field in ("force", "reference", "title", "received_on", "request"):
        assert stored[field] == draft[field]
    [response] = stored["responses"]
    assert response == draft["responses"][0]
    assert stored["responded_within_deadline"] is True


def test_demo_gives_the_met_no_deadline_verdict(client: TestClient, database_url: str) -> None:
    result = runner.invoke(cli, ["demo", "--count", "0"])
    assert result.exit_code == 0, result.output
    assert "metropolitan-01.FOI.22.022487.txt: read but not loaded" in result.output
    met = client.get("/v1/forces/metropolitan/references/01.FOI.22.022487")
    assert met.status_code == 404
    stats = client.get("/v1/stats", params={"force": "metropolitan"}).json()
    assert stats["total"] == 0
    assert stats["timeliness"]["responded"] == 0
    herts = client.get("/v1/forces/hertfordshire/references/FOI2018/02892").json()
    assert (herts["received_on"], herts["responded_on"]) == ("2018-05-29", "2018-06-26")
    assert herts["responded_within_deadline"] is True


def test_demo_without_seeds_leaves_their_references_free(
    client: TestClient, session: Session
) -> None:
    result = runner.invoke(cli, ["demo", "--count", "3", "--no-seeds"])
    assert result.exit_code == 0, result.output
    assert f"{3 + sum(ROUND_ROBINS)} created" in result.output
    key = make_key(session)
    created = client.post("/v1/requests", json=hertfordshire_request_body(), headers=auth(key))
    assert created.status_code == 201, created.text


@pytest.mark.parametrize(
    ("dated", "received", "expected"),
    [
        # The year from the reference (the letter's received date has none either).
        ("26th June", "29th May", ("2018-05-29", "2018-06-26")),
        # From the received date; an answer dated before it is the next year's.
        ("Date: 10 January", "20 December 2018", ("2018-12-20", "2019-01-10")),
    ],
)
def test_a_letter_dated_without_its_year_takes_the_year_the_letter_gives(
    dated: str, received: str, expected: tuple[str, str]
) -> None:
    text = (
        resources.files("app.letters") / "seeds" / "hertfordshire-FOI2018-02892.txt"
    ).read_text()
    text = text.replace("26th June 2018", dated).replace("29th May", received)
    found = service.extract(
        text.encode(), media_type="text/plain", force="hertfordshire", max_bytes=10_000_000
    )
    entry = found.entry
    assert (entry["received_on"], entry["responses"][0]["responded_on"]) == expected
    assert any("dated without its year" in w for w in found.warnings)


def test_a_letter_under_the_other_act_than_its_forces_says_so(herts: Extraction) -> None:
    # Read as Police Scotland's, FOIA s31(3) became foisa-s31 and s24(2) vanished, unremarked.
    data = (
        resources.files("app.letters") / "seeds" / "hertfordshire-FOI2018-02892.txt"
    ).read_bytes()
    scottish = service.extract(
        data, media_type="text/plain", force="police-scotland", max_bytes=10_000_000
    )
    assert any(
        w.startswith("law: the letter answers under FOIA, but police-scotland answers under FOISA")
        for w in scottish.warnings
    )
    assert not any(w.startswith("law:") for w in herts.warnings)

"""A topic is a slug with a label (SPEC §1): the label keeps the words a client first gave it in
(`ANPR`, `IT contracts`); a topic first given as a slug is labelled from it, as before."""

from typing import Any

import orjson
import pytest
from factories import add_response, auth, create_request, make_key, publish
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select
from test_import import entry_document

from app.db import new_session
from app.errors import RuleViolation
from app.imports.service import import_entries
from app.keys.schemas import Actor
from app.models import Topic
from app.topics import service as topics


@pytest.fixture
def admin(session: Session) -> str:
    return make_key(session)


def labels() -> dict[str, str]:
    with new_session() as session:
        return dict(session.exec(select(Topic.slug, Topic.label).order_by(col(Topic.slug))).all())


def published_with(client: TestClient, key: str, reference: str, topics: list[str]) -> Any:
    request = create_request(client, key, reference=reference, topics=topics)
    add_response(client, key, request["id"])
    return publish(client, key, request["id"])


def test_a_topic_given_in_words_is_labelled_with_them(client: TestClient, admin: str) -> None:
    given = [
        "ANPR",
        "IT contracts",
        "Drones Usage",
        "facial-recognition",
        "drone use",
        "Café  culture",
        "COVID-19",
        "body_worn_video",
    ]
    entry = published_with(client, admin, "FOI/1", given)
    assert entry["topics"] == [
        "anpr",
        "body-worn-video",
        "cafe-culture",
        "covid-19",
        "drone-use",
        "drones-usage",
        "facial-recognition",
        "it-contracts",
    ]
    listed = {t["slug"]: t["label"] for t in client.get("/v1/topics").json()["items"]}
    assert listed == {
        "anpr": "ANPR",
        "body-worn-video": "Body worn video",  # a slug, labelled as ever
        "cafe-culture": "Café culture",
        "covid-19": "COVID-19",
        "drone-use": "Drone use",  # words in lower case: the first letter is a capital
        "drones-usage": "Drones Usage",
        "facial-recognition": "Facial recognition",
        "it-contracts": "IT contracts",
    }
    feed = client.get("/v1/disclosure-log.atom", params={"topic": "it-contracts"}).text
    assert "topic IT contracts" in feed
    page = client.get(f"/disclosure-log/{entry['id']}").text
    assert ">ANPR</a>" in page
    assert ">IT contracts</a>" in page


def test_a_topic_keeps_the_label_it_was_created_with(client: TestClient, admin: str) -> None:
    create_request(client, admin, reference="FOI/1", topics=["anpr", "CCTV"])
    create_request(client, admin, reference="FOI/2", topics=["ANPR", "cctv", "Cctv"])
    # One request giving a slug and words: the words label it, wherever they stand.
    create_request(client, admin, reference="FOI/3", topics=["body-worn-video", "Body Worn Video"])
    assert labels() == {"anpr": "Anpr", "body-worn-video": "Body Worn Video", "cctv": "CCTV"}


def test_an_import_labels_a_new_topic_with_its_first_words(session: Session) -> None:
    file = [
        entry_document(reference="A/1", topics=["drone-use"]),
        entry_document(reference="A/2", topics=["ANPR", "Drone USE"]),
        entry_document(reference="A/3", topics=["anpr"]),
    ]
    lines = [orjson.dumps(document) for document in file]
    import_entries(session, lines, actor=Actor.system("test"))
    assert labels() == {"anpr": "ANPR", "drone-use": "Drone use"}


@pytest.mark.parametrize(
    ("raw", "label"),
    [
        ("  IT \t contracts ", "IT contracts"),
        ("A\u200bN\u2060PR", "ANPR"),  # format characters are not part of the label
        ("Cafe\u0301", "Café"),  # composed
        ("stop-and-search", None),
        ("stop_and_search", None),
        ("Stop and search", "Stop and search"),
    ],
)
def test_label_of_the_form_given(raw: str, label: str | None) -> None:
    assert topics.label_of(raw) == label


def test_a_label_in_words_still_passes_the_topic_rules(client: TestClient, admin: str) -> None:
    for raw in ("<b>ANPR</b>", "ANPR@force", "!!!"):
        with pytest.raises(RuleViolation) as caught:
            topics.given(["ok", raw])
        assert caught.value.rule == "topic-slug"
        assert caught.value.errors is not None
        assert caught.value.errors[0]["loc"] == ["topics", 1]
    # The requester's name in a topic's words is caught in its label as in its slug.
    request = create_request(client, admin, reference="FOI/1")
    add_response(client, admin, request["id"])
    refused = client.post(
        "/v1/disclosure-log",
        json={"request_id": request["id"], "topics": ["Requests by Jane MARLOW"]},
        headers=auth(admin),
    )
    assert refused.status_code == 422, refused.text
    assert ["topics", 0] in [error["loc"] for error in refused.json()["errors"]]

"""Every way the requester can stand in published text (SPEC §6), caught wherever it stands;
and ordinary text that must still publish."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import census
import pytest
from factories import (
    add_response,
    auth,
    create_request,
    hertfordshire_response_body,
    make_key,
)
from fastapi.testclient import TestClient
from sqlmodel import Session

from app import privacy

NAME = "Zebedee Quartermaine"
EMAIL = "zeb.q@example.org"
ADDRESS = "14 Acacia Road, Little Whinging, Surrey, SW1A 1AA"


@dataclass
class _Citation:
    exemption_id: str = "foia-s31"
    provision: str = "31(1)(a)"
    ncnd: bool = False
    questions: list[str] = field(default_factory=list)
    public_interest: dict[str, Any] | None = None
    harm: str | None = None


@dataclass
class _Response:
    text: str = ""
    kind: str = "initial"
    responded_on: date = date(2018, 6, 26)
    outcome: str = "refused"
    signatory_name: str | None = None
    signatory_role: str | None = None
    answers: list[Any] = field(default_factory=list)
    citations: list[_Citation] = field(default_factory=list)


@dataclass
class _Question:
    number: str
    text: str


@dataclass
class _Topic:
    slug: str
    label: str


@dataclass
class _Request:
    text: str = ""
    requester_name: str | None = NAME
    requester_email: str | None = EMAIL
    requester_address: str | None = ADDRESS
    force_id: str = "hertfordshire"
    reference: str = "FOI2018/02892"
    aliases: list[str] = field(default_factory=list)
    received_on: date = date(2018, 5, 29)
    due_on: date = date(2018, 6, 26)
    clarification_received_on: date | None = None
    extended_due_on: date | None = None
    questions: list[_Question] = field(default_factory=list)
    responses: list[_Response] = field(default_factory=list)
    topics: list[_Topic] = field(default_factory=list)


# How the requester may be written into text that is published: each must be caught.
CAUGHT = [
    "Zebedee Quartermaine",
    "zebedee quartermaine",
    "ZEBEDEE QUARTERMAINE",
    "Quartermaine, Zebedee",
    "Quartermaine Zebedee",
    "Zebedee-Quartermaine",
    "Zebedee\u00a0Quartermaine",
    "Zebedee\u200bQuartermaine",
    "Zebedee\u200b Quartermaine",
    "Quarter\u200bmaine, Zebedee",
    "Zebedee\u2060Quartermaine",
    "Zeb\u00adedee Quartermaine",
    "Zebedee   \n  Quartermaine",
    "".join(chr(ord(c) + 0xFEE0) if c != " " else c for c in NAME),  # full-width letters
    "Zébédée Quartermaine",
    "Z\u0435bedee Quartermaine",
    "Mr Zebedee Quartermaine",
    "Mr. Quartermaine asks",
    "Mr Quartermaine asks",
    "Dear Ms Quartermaine,",
    "Dear Quartermaine",
    "Dr Quartermaine",
    "Z. Quartermaine",
    "Z Quartermaine",
    "Z.Quartermaine",
    "Quartermaine, Z.",
    "zebedee.quartermaine",
    "zeb.q@example.org",
    "ZEB.Q@EXAMPLE.ORG",
    "zeb.q\u200b@example.org",
    "contact: zeb.q @ example.org",
    "14 Acacia Road",
    "14, Acacia Road",
    "lives on Acacia Road",
    "SW1A 1AA",
    "sw1a1aa",
    "Sw1a  1aa",
    # Marked up, or spelled out against harvesters.
    "<b>Zebedee</b> Quartermaine",
    "Zebedee<br>Quartermaine",
    "Zebedee&nbsp;Quartermaine",
    "Zebedee&#32;Quartermaine",
    "ZebedeeQuartermaine",
    "zeb.q [at] example [dot] org",
    "zeb dot q at example dot org",
    "ZEB.Q(AT)EXAMPLE(DOT)ORG",
    "zeb.q&#64;example.org",
    "Zeb<b></b>edee Quartermaine",
    "Zebedee Q<span>uartermaine</span>",
    "mailto:zeb.q%40example.org",
    "zeb-q-example-org",
    "zeb_q example org",
    # The given name and the surname apart, a few words between them.
    "Quartermaine's request from Zebedee",
    "Zebedee, whose surname is Quartermaine",
    "Zebedee Q.",
]
# Ordinary text that must still publish.
CONTROLS = [
    "The force holds the information requested.",
    "Road traffic collisions on the A1(M)",
    "Road",
    "Surrey Police and Hertfordshire Constabulary",
    "Zebedee",
    "The quartermaine of the regiment",
    "Quartermaine",
    "Jane Marlow asked the same question.",
    "Zebedee Smith",
    "Acacia",
    "SW1A",
    "1AA",
    "zeb.q",
    "example.org",
    "<b>Zebedee</b> Smith",
    "Quartermaine&amp;Co",
    "write to info at example dot org",
    "example org",
    "100% of Zebedee",
    "Zebedee wrote first; many weeks later, after the review, the quartermaine",
]


@pytest.mark.parametrize("text", CAUGHT)
def test_each_way_of_writing_the_requester_is_caught(text: str) -> None:
    request = _Request(text=f"Request from {text} about drones.")
    _caught(privacy.mentions(request, "Drones") == [["request", "text"]])


def _caught(caught: bool) -> None:
    census.add("privacy variants tried")
    census.add("privacy variants missed", not caught)
    assert caught


@pytest.mark.parametrize(
    "stored",
    ["Mr Zebedee Quartermaine", "Quartermaine, Zebedee", "zebedee quartermaine esq", NAME],
)
@pytest.mark.parametrize("text", ["Zebedee Quartermaine", "Mr Quartermaine", "Z. Quartermaine"])
def test_titles_and_order_on_either_side(stored: str, text: str) -> None:
    request = _Request(text=f"Sent by {text}.", requester_name=stored)
    _caught(privacy.mentions(request, "Drones") == [["request", "text"]])


@pytest.mark.parametrize(
    ("stored", "text"),
    [
        ("Zebedee Arthur Quartermaine", "Zebedee A. Quartermaine"),
        ("Zebedee Arthur Quartermaine", "Zebedee A Quartermaine"),
        ("Siobhan O'Neil", "Siobhan ONeil"),
        ("Siobhan O'Neil", "Mr ONeil"),
        ("Ann Smith-Jones", "Ann SmithJones"),
    ],
)
def test_middle_initials_and_joined_surnames(stored: str, text: str) -> None:
    request = _Request(text=f"Sent by {text}.", requester_name=stored)
    _caught(privacy.mentions(request, "Drones") == [["request", "text"]])


@pytest.mark.parametrize("text", CONTROLS)
def test_ordinary_text_is_not_blocked(text: str) -> None:
    blocked = privacy.mentions(_Request(text=text), text)
    census.add("privacy controls tried")
    census.add("privacy controls blocked", bool(blocked))
    assert blocked == []


def test_every_published_field_is_checked() -> None:
    named = "asked by Zebedee Quartermaine"
    citation = _Citation(
        public_interest={"for": ["ok", named], "against": [named], "balance": named}, harm=named
    )
    response = _Response(text="ok", signatory_name=NAME, signatory_role=named, citations=[citation])
    request = _Request(
        text="ok",
        aliases=["ok", NAME],
        questions=[_Question("Mr Quartermaine", named)],
        responses=[response],
        topics=[_Topic("zebedee-quartermaine", "Zebedee quartermaine")],
    )
    found = privacy.mentions(request, named, extra=[(("attachments", 0, "text"), named)])
    assert found == [
        ["title"],
        ["aliases", 1],
        ["topics", 0],
        ["request", "questions", 0, "number"],
        ["request", "questions", 0, "text"],
        ["responses", 0, "citations", 0, "public_interest", "for", 1],
        ["responses", 0, "citations", 0, "public_interest", "against", 0],
        ["responses", 0, "citations", 0, "public_interest", "balance"],
        ["responses", 0, "citations", 0, "harm"],
        ["responses", 0, "signatory", "name"],
        ["responses", 0, "signatory", "role"],
        ["attachments", 0, "text"],
    ]


def test_a_name_of_one_short_word_or_none_checks_only_the_rest() -> None:
    request = _Request(text="Al and Road", requester_name="Al", requester_address=None)
    assert privacy.mentions(request, "t") == []
    request = _Request(text="zeb.q@example.org", requester_name=None, requester_address=None)
    assert privacy.mentions(request, "t") == [["request", "text"]]


PUBLISHED_PLACES = [
    ("signatory", lambda body: body | {"signatory": {"name": NAME, "role": "Information"}}),
    (
        "balance",
        lambda body: (
            body
            | {
                "citations": [
                    body["citations"][0]
                    | {"public_interest": {"for": [], "against": [], "balance": f"Mr {NAME}"}},
                    body["citations"][1],
                ]
            }
        ),
    ),
    (
        "harm",
        lambda body: (
            body
            | {"citations": [body["citations"][0] | {"harm": "SW1A 1AA"}, body["citations"][1]]}
        ),
    ),
]


@pytest.mark.parametrize(("place", "change"), PUBLISHED_PLACES)
def test_publishing_refuses_until_acknowledged_and_audits_it(
    client: TestClient, session: Session, place: str, change: Any
) -> None:
    key = make_key(session)
    session.commit()
    requester = {"name": NAME, "email": EMAIL, "address": ADDRESS, "category": "individual"}
    request = create_request(client, key, requester=requester)
    body = change(hertfordshire_response_body())
    response = client.post(f"/v1/requests/{request['id']}/responses", json=body, headers=auth(key))
    assert response.status_code == 201, response.text
    refused = client.post(
        "/v1/disclosure-log", json={"request_id": request["id"]}, headers=auth(key)
    )
    assert refused.status_code == 422, place
    assert refused.json()["rule"] == privacy.RULE
    published = client.post(
        "/v1/disclosure-log",
        json={"request_id": request["id"], "acknowledge_privacy_warning": True},
        headers=auth(key),
    )
    assert published.status_code == 201
    audit = client.get("/v1/audit", params={"action": "entry.publish"}, headers=auth(key))
    assert audit.json()["items"][0]["after"]["privacy_warning_acknowledged"]


def _live_entry(client: TestClient, session: Session) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """A key, and a request naming its requester, answered and published: its entry."""
    key = make_key(session)
    session.commit()
    requester = {"name": NAME, "email": EMAIL, "address": None, "category": "individual"}
    request = create_request(client, key, requester=requester)
    add_response(client, key, request["id"])
    entry = client.post(
        "/v1/disclosure-log", json={"request_id": request["id"]}, headers=auth(key)
    ).json()
    return key, request, entry


def test_topics_and_aliases_of_a_live_entry_are_checked(
    client: TestClient, session: Session
) -> None:
    key, request, entry = _live_entry(client, session)
    topic = client.patch(
        f"/v1/disclosure-log/{entry['id']}",
        json={"topics": ["zebedee-quartermaine"]},
        headers=auth(key),
    )
    assert topic.status_code == 422
    assert topic.json()["errors"][0]["loc"] == ["topics", 0]
    alias = client.patch(
        f"/v1/requests/{request['id']}", json={"aliases": ["Quartermaine Z"]}, headers=auth(key)
    )
    assert alias.status_code == 422
    assert client.get(f"/v1/disclosure-log/{entry['id']}").json()["topics"] != [
        "zebedee-quartermaine"
    ]


@pytest.mark.parametrize(
    ("topic", "status"),
    [
        ("zeb.q@example.org", 422),  # an address: never a topic
        ("<b>Zebedee</b> Quartermaine", 422),  # markup: never a topic
        ("Z\u0435bedee Quartermaine", 422),  # a Cyrillic e: written as an e, and caught
        ("Drones & aircraft", 200),
    ],
)
def test_a_topic_is_checked_as_written_and_as_its_slug(
    client: TestClient, session: Session, topic: str, status: int
) -> None:
    key, _, entry = _live_entry(client, session)
    patched = client.patch(
        f"/v1/disclosure-log/{entry['id']}", json={"topics": [topic]}, headers=auth(key)
    )
    assert patched.status_code == status, patched.text
    if status == 422:
        assert patched.json()["errors"][0]["loc"][-2:] == ["topics", 0]
    topics = client.get(f"/v1/disclosure-log/{entry['id']}").json()["topics"]
    assert (topics == ["drones-aircraft"]) == (status == 200)

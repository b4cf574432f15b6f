"""Plain functions that build what the write-side tests need."""

from typing import Any

import httpx
import orjson
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.db import new_session, utcnow
from app.keys import service as keys
from app.models import DisclosureEntry, EntryChange, Role
from app.visibility import public_entries

# The in-process test client, or a real server's (tests/instances.py).
Client = TestClient | httpx.Client

REQUESTER = {
    "name": "Jane Marlow",
    "email": "jane.marlow@example.org",
    "address": "1 High Street, Hertford",
    "category": "journalist",
}

HERTS_QUESTIONS = [
    "Does the Force have a stored database of facial images?",
    "How many images are currently on the database?",
    "Please provide statistics on how many of the images appear to be people belonging to "
    "black and ethnic minority groups, if known",
    "For each of the last three years, please list from where the Force has obtained images",
    "Does the Force take stills images from video footage?",
    "For each of the last three years, how many requests have the Force's officers and staff "
    "made to search Facebook, SnapChat, Instagram and Twitter for images and/or video footage?",
    "For each of the last three years, on how many occasions has the force made requests to "
    "Facebook, SnapChat, Instagram and Twitter for images or video?",
    "For each source of images, please state how long are the images are stored, and under "
    "what circumstances are they deleted",
    "For each of the last three years, how many people have requested to have their image(s) "
    "removed from the Force's database?",
    "Has the force taken biometric data from the images?",
    "Does the force now, has it ever, or is it planning to use technology to match facial images?",
    "If so, what technology is/was used, who supplies it, how much does it cost?",
    "When attempting to match images, please state from which sources the images were obtained",
    "On how many occasions has matching been carried out, and how many images were used?",
    "How many arrests and convictions have resulted from the image matching technology?",
    'What has been the so-called "false positive" rate?',
    "Has the force done any testing around the matching system's ability to handle images of "
    "people who appear to belong to black and minority ethnic groups?",
]


def make_key(session: Session, role: Role = Role.ADMIN, forces: list[str] | None = None) -> str:
    """A fresh key's secret; the name is unique per call."""
    count = len(keys.list_keys(session))
    _, secret = keys.create(session, name=f"{role}-{count}", role=role, forces=forces or [])
    return secret


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def hertfordshire_request_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "force": "hertfordshire",
        "reference": "FOI2018/02892",
        "aliases": [],
        "received_on": "2018-05-29",
        "title": "Facial image database and facial recognition",
        "text": "I seek access to information about facial images and facial recognition.",
        "topics": ["facial-recognition", "Biometrics"],
        "questions": [{"number": str(i), "text": t} for i, t in enumerate(HERTS_QUESTIONS, 1)],
        "requester": dict(REQUESTER),
    }
    body.update(changes)
    return body


PUBLIC_INTEREST_24 = {
    "for": ["A better informed public can take steps to protect themselves."],
    "against": ["Criminals would be able to identify the capacity of the Constabulary."],
    "balance": "The public interest does not supersede the need to maintain operational "
    "integrity at this time.",
}
PUBLIC_INTEREST_31 = {
    "for": ["Better awareness of police resources will encourage public debate."],
    "against": ["Confirming or denying would increase harm to covert investigations."],
    "balance": "The public interest does not supersede the need to maintain operational "
    "integrity at this time.",
}


def hertfordshire_response_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "initial",
        "responded_on": "2018-06-26",
        "outcome": "neither_confirm_nor_deny",
        "text": "Hertfordshire Constabulary is not currently using facial recognition "
        "technology and neither confirms nor denies that it holds information concerning "
        "the covert use of facial recognition.",
        "answers": [
            {
                "questions": ["11"],
                "text": "No record is held concerning the introduction of facial recognition "
                "systems overtly in the future.",
            }
        ],
        "citations": [
            {
                "exemption": "foia-s24",
                "provision": "24(2)",
                "ncnd": True,
                "questions": ["11"],
                "public_interest": PUBLIC_INTEREST_24,
            },
            {
                "exemption": "foia-s31",
                "provision": "31(3)",
                "ncnd": True,
                "questions": ["11"],
                "public_interest": PUBLIC_INTEREST_31,
            },
        ],
        "signatory": {"name": "James Hodson", "role": "Information Rights"},
    }
    body.update(changes)
    return body


def create_request(client: Client, key: str, **changes: Any) -> dict[str, Any]:
    response = client.post(
        "/v1/requests", json=hertfordshire_request_body(**changes), headers=auth(key)
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def add_response(client: Client, key: str, request_id: int, **changes: Any) -> dict[str, Any]:
    response = client.post(
        f"/v1/requests/{request_id}/responses",
        json=hertfordshire_response_body(**changes),
        headers=auth(key),
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def published(client: Client, key: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The Hertfordshire request, answered and published: (request, entry document)."""
    request = create_request(client, key)
    add_response(client, key, request["id"])
    return request, publish(client, key, request["id"])


def publish(client: Client, key: str, request_id: int, **changes: Any) -> dict[str, Any]:
    response = client.post(
        "/v1/disclosure-log", json={"request_id": request_id, **changes}, headers=auth(key)
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


# Readers below open a read session of their own: the `session` fixture is a write session and
# on SQLite would hold the write lock the API calls under test wait for.


def stored_entry(entry_id: int) -> DisclosureEntry:
    with new_session() as session:
        entry = session.get(DisclosureEntry, entry_id)
    assert entry is not None
    return entry


def stored_document(entry_id: int) -> dict[str, Any]:
    result: dict[str, Any] = orjson.loads(stored_entry(entry_id).document)
    return result


def change_feed() -> list[tuple[int, str]]:
    with new_session() as session:
        rows = session.exec(select(EntryChange).order_by(col(EntryChange.seq)))
        return [(change.entry_id, change.kind) for change in rows]


def visible_entry_ids() -> list[int | None]:
    with new_session() as session:
        return list(session.exec(select(DisclosureEntry.id).where(public_entries(utcnow()))))

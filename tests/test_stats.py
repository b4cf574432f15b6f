from datetime import date
from typing import Any

import factories
import pytest
from fastapi.testclient import TestClient
from log_factories import Cite, Spec, publish
from sqlalchemy import update
from sqlmodel import Session, col

from app.models import DisclosureEntry
from app.tally import service as tally


def stats(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/v1/stats", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _sample(session: Session) -> None:
    publish(session, Spec(force="metropolitan", received_on=date(2022, 1, 10), topics=["fleet"]))
    publish(
        session,
        Spec(
            force="metropolitan",
            received_on=date(2022, 1, 28),
            outcome="refused",
            citations=[Cite("foia-s31", "31(1)(a)"), Cite("foia-s40", "40(2)")],
            topics=["fleet", "drones"],
        ),
    )
    publish(
        session,
        Spec(
            force="hertfordshire",
            received_on=date(2022, 3, 1),
            outcome="neither_confirm_nor_deny",
            citations=[Cite("foia-s31", "31(3)", True)],
            topics=["drones"],
        ),
    )


def test_counts_by_outcome_exemption_topic_force_and_month(
    client: TestClient, session: Session
) -> None:
    _sample(session)
    body = stats(client)
    assert body["total"] == 3
    assert body["by_outcome"] == {
        "disclosed_in_full": 1,
        "neither_confirm_nor_deny": 1,
        "refused": 1,
    }
    assert body["by_exemption"] == {"foia-s31": 2, "foia-s40": 1}
    assert body["by_topic"] == {"drones": 2, "fleet": 2}
    assert list(body["by_force"].items()) == [("metropolitan", 2), ("hertfordshire", 1)]
    assert list(body["by_month"].items()) == [("2022-01", 2), ("2022-03", 1)]


def test_stats_take_the_log_filters(client: TestClient, session: Session) -> None:
    _sample(session)
    body = stats(client, force="metropolitan", exemption="foia-s31")
    assert body["total"] == 1
    assert body["by_outcome"] == {"refused": 1}
    assert body["by_topic"] == {"drones": 1, "fleet": 1}
    assert stats(client, received_from="2022-02-01")["by_month"] == {"2022-03": 1}
    assert stats(client, q="nothing-matches-this")["total"] == 0


def test_an_unknown_filter_value_is_a_400(client: TestClient) -> None:
    response = client.get("/v1/stats", params={"outcome": "lost"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


def test_timeliness_counts_the_answers_on_time(client: TestClient, session: Session) -> None:
    key = factories.make_key(session)
    on_time = factories.create_request(client, key)
    factories.add_response(client, key, on_time["id"])
    factories.publish(client, key, on_time["id"])
    late = factories.create_request(client, key, reference="FOI2018/03000")
    factories.add_response(client, key, late["id"], responded_on="2018-06-28")
    factories.publish(client, key, late["id"])
    timeliness = stats(client)["timeliness"]
    # Received 2018-05-29: the 20th working day is 2018-06-26, the 22nd 2018-06-28.
    assert timeliness == {
        "responded": 2,
        "within_deadline": 1,
        "rate": 0.5,
        "median_working_days": 21.0,
    }


@pytest.mark.parametrize(
    ("days", "median"),
    [([7], 7.0), ([3, 40, 10], 10.0), ([25, 3, 40, 10], 17.5), ([5, 5, 6, 30, 30], 6.0)],
)
def test_the_median_is_the_middle_of_the_working_days(
    client: TestClient, session: Session, days: list[int], median: float
) -> None:
    for count in days:
        entry = publish(session)
        session.execute(
            update(DisclosureEntry)
            .where(col(DisclosureEntry.id) == entry.id)
            .values(working_days_to_respond=count)
        )
        tally.recount(session, [entry.id])  # type: ignore[list-item]
    publish(session, Spec(force="hertfordshire"))  # filtered out below
    session.commit()
    body = stats(client, force="metropolitan")
    assert body["timeliness"]["median_working_days"] == median
    assert body["timeliness"]["responded"] == len(days)


def test_an_empty_selection_has_no_rate_or_median(client: TestClient) -> None:
    body = stats(client)
    assert body["total"] == 0
    assert body["by_month"] == {}
    assert body["timeliness"] == {
        "responded": 0,
        "within_deadline": 0,
        "rate": None,
        "median_working_days": None,
    }


def test_stats_are_cacheable(client: TestClient, session: Session) -> None:
    publish(session)
    first = client.get("/v1/stats")
    assert first.headers["cache-control"] == "public, max-age=60"
    again = client.get("/v1/stats", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""


def test_working_days_count_from_the_clarification_as_the_deadline_does(
    client: TestClient, session: Session
) -> None:
    # Answered on the 20th working day after the clarification restarted the clock: on time,
    # and 20 working days, not the 31 since receipt.
    key = factories.make_key(session)
    request = factories.create_request(client, key, received_on="2024-03-27")
    clarified = client.patch(
        f"/v1/requests/{request['id']}",
        json={"clarification_received_on": "2024-04-15"},
        headers={**factories.auth(key), "If-Match": "*"},
    )
    assert clarified.json()["due_on"] == "2024-05-14"
    factories.add_response(client, key, request["id"], responded_on="2024-05-14")
    factories.publish(client, key, request["id"])
    timeliness = client.get("/v1/stats").json()["timeliness"]
    assert (timeliness["within_deadline"], timeliness["median_working_days"]) == (1, 20.0)

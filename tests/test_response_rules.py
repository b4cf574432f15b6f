"""The rules a citation keeps against the exemption catalogue, and an internal review against
the initial response it reviews (SPEC §1), at each door: a new response, a correction and an
import line."""

from datetime import date
from typing import Any

import orjson
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

from app.entries.schemas import ResponseBody
from app.errors import RuleViolation
from app.exemptions import service as exemptions
from app.foi_responses import service as responses

PUBLIC_INTEREST = {"for": ["Openness."], "against": ["Harm."], "balance": "Withheld."}
QUESTIONS = {"1", "11"}
# A citation that keeps every rule, so that the one tested is the second.
FIRST = {
    "FOIA": {"exemption": "foia-s24", "provision": "24(1)"},
    "FOISA": {"exemption": "foisa-s34", "provision": "34(1)(a)"},
}


@pytest.fixture
def admin(session: Session) -> str:
    return make_key(session)


def cite(exemption: str, provision: str, **extra: Any) -> dict[str, Any]:
    return {"exemption": exemption, "provision": provision, **extra}


def check(session: Session, law: str, *citations: dict[str, Any], outcome: str = "refused") -> None:
    body = ResponseBody.model_validate(
        hertfordshire_response_body(outcome=outcome, citations=list(citations), answers=[])
    )
    responses.check(
        body,
        received_on=date(2018, 5, 29),
        law=law,
        questions=QUESTIONS,
        catalogue=exemptions.catalogue(session),
    )


def refusal(
    session: Session, law: str, *citations: dict[str, Any], outcome: str = "refused"
) -> tuple[str, list[Any], str]:
    """The rule `check` names, where, and what it says."""
    with pytest.raises(RuleViolation) as raised:
        check(session, law, *citations, outcome=outcome)
    assert raised.value.errors
    return raised.value.rule, raised.value.errors[0]["loc"], raised.value.detail


@pytest.mark.parametrize(
    ("law", "citation"),
    [
        ("FOIA", cite("foia-s31", "31(1)(a)")),
        ("FOIA", cite("foia-s31", "31")),
        ("FOIA", cite("foia-s31", "31(1)(a)(b)")),
        ("FOIA", cite("foia-s31", "31(1)(a) and (b)")),
        ("FOIA", cite("foia-s31", "31 (1) (a)")),
        ("FOIA", cite("foia-s31", "31(1)(a)-(c)")),
        ("FOIA", cite("foia-s30", "30(2)(a)(ii)")),
        ("FOIA", cite("foia-s22a", "22A(2)")),
        ("FOIA", cite("foia-s40", "40(5A), 40(5B)", ncnd=True)),
        ("FOIA", cite("foia-s21", "21(1)")),
        ("FOIA", cite("eir-r12-5-b", "12(5)(b)")),
        ("FOIA", cite("eir-r12-5-a", "12(6)", ncnd=True)),
        ("FOIA", cite("eir-r13", "13(5A)", ncnd=True)),
        ("FOISA", cite("foisa-s35", "35(1)(a)&(b)")),
        ("FOISA", cite("foisa-s30", "30(b)(i)")),
        # Mixed exemptions are absolute or qualified by the part relied on: the test may apply.
        ("FOIA", cite("foia-s40", "40(2)", public_interest=PUBLIC_INTEREST)),
        ("FOISA", cite("foisa-s38", "38(1)(b)", public_interest=PUBLIC_INTEREST)),
        ("FOIA", cite("eir-r13", "13(1)", public_interest=PUBLIC_INTEREST)),
        # With ncnd: true, the provision names the subsection that allows it, in some part.
        ("FOIA", cite("foia-s31", "31(3)", ncnd=True)),
        ("FOIA", cite("foia-s31", "31(1)(a) & 31(3)", ncnd=True)),
        ("FOIA", cite("foia-s24", "24(1) and (2)", ncnd=True)),
        ("FOIA", cite("foia-s12", "12(2)", ncnd=True)),
        ("FOIA", cite("foia-s40", "40(5B)(a)(i)", ncnd=True)),
        ("FOIA", cite("eir-r12-5-a", "12(5)(a) & 12(6)", ncnd=True)),
        # As they stood before the Data Protection Act 2018 replaced them.
        ("FOIA", cite("foia-s40", "40(5)(b)(i)", ncnd=True)),
        ("FOIA", cite("eir-r13", "13(5)", ncnd=True)),
    ],
)
def test_a_citation_of_the_exemptions_own_provision_stands(
    session: Session, law: str, citation: dict[str, Any]
) -> None:
    check(session, law, citation)


@pytest.mark.parametrize(
    ("law", "citation", "rule", "field"),
    [
        ("FOIA", cite("foia-s31", "24(2)"), "citation-provision", "provision"),
        ("FOIA", cite("foia-s31", "banana"), "citation-provision", "provision"),
        ("FOIA", cite("foia-s31", "s31(1)(a)"), "citation-provision", "provision"),
        ("FOIA", cite("foia-s31", "31(1)(a) & 24(2)"), "citation-provision", "provision"),
        ("FOIA", cite("foia-s31", "311(1)"), "citation-provision", "provision"),
        ("FOIA", cite("foia-s30", "30-31"), "citation-provision", "provision"),
        ("FOIA", cite("foia-s22", "22A(2)"), "citation-provision", "provision"),
        ("FOIA", cite("foia-s22a", "22(1)"), "citation-provision", "provision"),
        ("FOIA", cite("eir-r12-5-b", "12(5)(a)"), "citation-provision", "provision"),
        ("FOIA", cite("eir-r12-5-b", "12(5)"), "citation-provision", "provision"),
        ("FOIA", cite("eir-r12-5-b", "12(6)"), "citation-provision", "provision"),
        ("FOIA", cite("eir-r13", "12(5)(b)"), "citation-provision", "provision"),
        # 18(1) is foisa-s18's own: it is cited beside the exemption, not as its provision.
        ("FOISA", cite("foisa-s35", "18(1)"), "citation-provision", "provision"),
        # ncnd: true beside a subsection that is not the one allowing it.
        ("FOIA", cite("foia-s31", "31(1)(a)", ncnd=True), "ncnd-provision", "provision"),
        ("FOIA", cite("foia-s31", "31", ncnd=True), "ncnd-provision", "provision"),
        ("FOIA", cite("foia-s24", "24(1)", ncnd=True), "ncnd-provision", "provision"),
        ("FOIA", cite("foia-s12", "12(1)", ncnd=True), "ncnd-provision", "provision"),
        ("FOIA", cite("foia-s40", "40(2)", ncnd=True), "ncnd-provision", "provision"),
        ("FOIA", cite("eir-r12-5-a", "12(5)(a)", ncnd=True), "ncnd-provision", "provision"),
        ("FOIA", cite("eir-r13", "13(1)", ncnd=True), "ncnd-provision", "provision"),
        # A FOISA exemption has none of its own: s18(1) is cited beside it.
        ("FOISA", cite("foisa-s35", "35(1)(a)", ncnd=True), "ncnd-provision", "ncnd"),
        # And one the law gives none at all (FOIA s21, FOISA s27: not covered by s18).
        ("FOIA", cite("foia-s21", "21(1)", ncnd=True), "ncnd-not-available", "ncnd"),
        ("FOISA", cite("foisa-s27", "27(1)", ncnd=True), "ncnd-not-available", "ncnd"),
        (
            "FOIA",
            cite("foia-s21", "21(1)", public_interest=PUBLIC_INTEREST),
            "public-interest-absolute",
            "public_interest",
        ),
        (
            "FOIA",
            cite("foia-s44", "44(1)(a)", public_interest=PUBLIC_INTEREST),
            "public-interest-absolute",
            "public_interest",
        ),
        (
            "FOISA",
            cite("foisa-s25", "25(1)", public_interest=PUBLIC_INTEREST),
            "public-interest-absolute",
            "public_interest",
        ),
    ],
)
def test_a_citation_must_fit_its_exemption(
    session: Session, law: str, citation: dict[str, Any], rule: str, field: str
) -> None:
    where = ["body", "citations", 1, field]
    assert refusal(session, law, FIRST[law], citation)[:2] == (rule, where)


def test_foisa_section_18_is_cited_with_an_exemption_it_applies_to(session: Session) -> None:
    s18 = cite("foisa-s18", "18(1)", ncnd=True)
    ncnd = "neither_confirm_nor_deny"
    check(session, "FOISA", s18, cite("foisa-s35", "35(1)(a)", ncnd=True), outcome=ncnd)
    for others in ([], [cite("foisa-s35", "35(1)(a)")], [cite("foisa-s27", "27(1)")]):
        rule, loc, detail = refusal(session, "FOISA", s18, *others, outcome=ncnd)
        assert (rule, loc) == ("ncnd-provision-alone", ["body", "citations", 0, "exemption"])
        assert "foisa-s35" in detail


def test_the_ncnd_rules_say_which_provision_to_cite(session: Session) -> None:
    ncnd = "neither_confirm_nor_deny"
    detail = refusal(session, "FOIA", cite("foia-s31", "31(1)(a)", ncnd=True), outcome=ncnd)[2]
    assert "'31(1)(a)'" in detail
    assert "31(3)" in detail
    s35 = cite("foisa-s35", "35(1)(a)", ncnd=True)
    detail = refusal(session, "FOISA", s35, outcome=ncnd)[2]
    assert "18(1)" in detail
    assert "foisa-s18" in detail
    # Cited with ncnd: false, s18(1) does not carry it either.
    s18 = cite("foisa-s18", "18(1)")
    assert refusal(session, "FOISA", s35, s18, outcome=ncnd)[:2] == (
        "ncnd-provision",
        ["body", "citations", 0, "ncnd"],
    )


def post_response(client: TestClient, key: str, request_id: int, **changes: Any) -> Any:
    return client.post(
        f"/v1/requests/{request_id}/responses",
        json=hertfordshire_response_body(**changes),
        headers=auth(key),
    )


def refused(answer: Any) -> tuple[str, list[Any]]:
    """A write's refusal: its rule and where it points."""
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    return answer.json()["rule"], answer.json()["errors"][0]["loc"]


def test_the_write_api_refuses_a_citation_that_does_not_fit(client: TestClient, admin: str) -> None:
    request = create_request(client, admin)
    wrong = [cite("foia-s24", "24(2)", ncnd=True), cite("foia-s31", "24(2)")]
    posted = post_response(client, admin, request["id"], citations=wrong)
    assert refused(posted) == ("citation-provision", ["body", "citations", 1, "provision"])
    response = add_response(client, admin, request["id"])
    patched = client.patch(
        f"/v1/responses/{response['id']}",
        json={"outcome": "refused", "citations": [cite("foia-s21", "21", public_interest={})]},
        headers=auth(admin),
    )
    where = ["body", "citations", 0, "public_interest"]
    assert refused(patched) == ("public-interest-absolute", where)


def test_the_write_api_refuses_ncnd_beside_another_provision(
    client: TestClient, admin: str
) -> None:
    request = create_request(client, admin)
    wrong = [cite("foia-s24", "24(2)", ncnd=True), cite("foia-s31", "31(1)(a)", ncnd=True)]
    posted = post_response(client, admin, request["id"], citations=wrong)
    assert refused(posted) == ("ncnd-provision", ["body", "citations", 1, "provision"])
    response = add_response(client, admin, request["id"])
    patched = client.patch(
        f"/v1/responses/{response['id']}", json={"citations": wrong}, headers=auth(admin)
    )
    assert refused(patched) == ("ncnd-provision", ["body", "citations", 1, "provision"])
    stored = client.get(f"/v1/requests/{request['id']}", headers=auth(admin)).json()
    assert [c["provision"] for c in stored["responses"][0]["citations"]] == ["24(2)", "31(3)"]


def review(**changes: Any) -> dict[str, Any]:
    return hertfordshire_response_body(
        kind="internal_review", outcome="disclosed_in_full", citations=[], **changes
    )


def test_an_internal_review_follows_the_initial_response(client: TestClient, admin: str) -> None:
    request_id = create_request(client, admin)["id"]
    alone = post_response(client, admin, request_id, **review(responded_on="2018-07-01"))
    assert refused(alone) == ("review-initial", ["body", "kind"])
    initial = add_response(client, admin, request_id)  # 2018-06-26
    early = post_response(client, admin, request_id, **review(responded_on="2018-06-25"))
    assert refused(early) == ("review-initial", ["body", "responded_on"])
    assert "2018-06-26" in early.json()["detail"]
    same_day = add_response(client, admin, request_id, **review(responded_on="2018-06-26"))
    for changes in ({"responded_on": "2018-06-27"}, {"kind": "internal_review"}):
        moved = client.patch(f"/v1/responses/{initial['id']}", json=changes, headers=auth(admin))
        assert refused(moved) == ("review-initial", ["body", *changes])
    backdated = client.patch(
        f"/v1/responses/{same_day['id']}", json={"responded_on": "2018-06-01"}, headers=auth(admin)
    )
    assert refused(backdated)[0] == "review-initial"
    stored = client.get(f"/v1/requests/{request_id}", headers=auth(admin)).json()["responses"]
    assert [(r["kind"], r["responded_on"]) for r in stored] == [
        ("initial", "2018-06-26"),
        ("internal_review", "2018-06-26"),
    ]


def test_a_request_has_one_initial_response(client: TestClient, admin: str) -> None:
    request_id = create_request(client, admin)["id"]
    initial = add_response(client, admin, request_id)  # 2018-06-26
    second = post_response(client, admin, request_id, responded_on="2018-07-10")
    assert refused(second) == ("initial-unique", ["body", "kind"])
    assert "2018-06-26" in second.json()["detail"]
    reviewed = add_response(client, admin, request_id, **review(responded_on="2018-07-10"))
    made_initial = client.patch(
        f"/v1/responses/{reviewed['id']}", json={"kind": "initial"}, headers=auth(admin)
    )
    assert refused(made_initial) == ("initial-unique", ["body", "kind"])
    # The initial response itself is corrected as before.
    fixed = client.patch(
        f"/v1/responses/{initial['id']}", json={"text": "Corrected"}, headers=auth(admin)
    )
    assert fixed.status_code == 200, fixed.text
    stored = client.get(f"/v1/requests/{request_id}", headers=auth(admin)).json()["responses"]
    assert [(r["kind"], r["responded_on"]) for r in stored] == [
        ("initial", "2018-06-26"),
        ("internal_review", "2018-07-10"),
    ]


def import_line(client: TestClient, key: str, responses_: list[dict[str, Any]]) -> Any:
    document = {
        "force": "hertfordshire",
        "reference": "FOI2018/02892",
        "title": "Facial recognition",
        "received_on": "2018-05-29",
        "request": {"text": "", "questions": [{"number": "11", "text": "Biometrics?"}]},
        "responses": responses_,
    }
    return client.post(
        "/v1/import",
        content=orjson.dumps(document) + b"\n",
        headers={**auth(key), "Content-Type": "application/x-ndjson"},
    )


@pytest.mark.parametrize(
    ("responses_", "rule", "loc"),
    [
        (
            [hertfordshire_response_body(), review(responded_on="2018-06-20")],
            "review-initial",
            ["line", 1, "responses", 1, "responded_on"],
        ),
        (
            [review(responded_on="2018-07-01")],
            "review-initial",
            ["line", 1, "responses", 0, "kind"],
        ),
        (
            [
                hertfordshire_response_body(
                    citations=[cite("foia-s24", "24(2)", ncnd=True), cite("foia-s31", "banana")]
                )
            ],
            "citation-provision",
            ["line", 1, "responses", 0, "citations", 1, "provision"],
        ),
        (
            [
                hertfordshire_response_body(
                    outcome="refused",
                    citations=[cite("foia-s44", "44(1)(a)", public_interest=PUBLIC_INTEREST)],
                )
            ],
            "public-interest-absolute",
            ["line", 1, "responses", 0, "citations", 0, "public_interest"],
        ),
    ],
)
def test_an_import_line_keeps_the_same_rules(
    client: TestClient, admin: str, responses_: list[dict[str, Any]], rule: str, loc: list[Any]
) -> None:
    assert refused(import_line(client, admin, responses_)) == (rule, loc)
    reviewed = [hertfordshire_response_body(), review(responded_on="2018-06-26")]
    assert import_line(client, admin, reviewed).status_code == 200

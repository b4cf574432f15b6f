"""A draft's warnings say what the write API and import would refuse in it, by the same rules
(app/foi_responses), every refusal rather than the first; the draft is left as the letter
has it, for a person to correct."""

from datetime import timedelta
from typing import Any

from app.foi_requests.service import today
from app.letters import service


def _letter(force: str, decision: str, *, dated: str = "26th June 2018") -> bytes:
    return (
        f"Information Rights\n\n{dated}\n\nOur Ref: FOI2018/09999\n\nDear Sir,\n\n"
        "I write in connection with your request for information received on 29th May 2018. "
        "You asked:\n\n1. How many drones does the force own?\n\n"
        f"Response\n{decision}\n\nYours sincerely\n\nJames Hodson\nInformation Rights\n"
    ).encode()


def _rules(warnings: list[str]) -> list[str]:
    """Each rule warning as `rule at field`."""
    return [w.removeprefix("rule ").split(": ")[0] for w in warnings if w.startswith("rule ")]


def test_a_letter_citing_foisa_s18_alone_is_warned_as_a_response_would_be_refused() -> None:
    letter = _letter(
        "police-scotland",
        "In terms of Section 18(1) of the Act, Police Scotland can neither confirm nor deny "
        "that it holds the information.",
    )
    result = service.extract(
        letter, media_type="text/plain", force="police-scotland", max_bytes=10**6
    )
    [citation] = result.entry["responses"][0]["citations"]
    assert (citation["exemption"], citation["ncnd"]) == ("foisa-s18", True)  # as the letter has it
    assert _rules(result.warnings) == [
        "ncnd-provision-alone at responses[0].citations[0].exemption"
    ]
    [warning] = [w for w in result.warnings if w.startswith("rule ")]
    assert "foisa-s35" in warning


def test_a_letter_dated_in_the_future_is_warned() -> None:
    dated = (today() + timedelta(days=400)).strftime("%d %B %Y")
    letter = _letter("kent", "The information is not held.", dated=dated)
    result = service.extract(letter, media_type="text/plain", force="kent", max_bytes=10**6)
    assert _rules(result.warnings) == ["response-date at responses[0].responded_on"]
    assert "in the future" in " ".join(result.warnings)


def _draft(*responses: dict[str, Any]) -> dict[str, Any]:
    return {
        "force": "kent",
        "reference": "FOI/1",
        "title": "Drones",
        "received_on": "2024-04-02",
        "request": {"text": "", "questions": [{"number": "1", "text": "How many drones?"}]},
        "responses": list(responses),
    }


def _citation(exemption: str, provision: str, **more: Any) -> dict[str, Any]:
    return {"exemption": exemption, "provision": provision, "ncnd": False, **more}


def test_every_refused_part_of_a_response_is_named_where_it_stands() -> None:
    """`check` stops at the first refusal; a draft lists them all, each at its own place,
    and the rules of the response as a whole on all its citations."""
    test = {"for": ["Openness"], "against": ["Harm"], "balance": "Withheld"}
    response = {
        "kind": "initial",
        "responded_on": "2024-03-01",  # before the request was received
        "outcome": "neither_confirm_nor_deny",
        "text": "",
        "answers": [{"questions": ["1"], "text": "Some"}, {"questions": ["9"], "text": "None"}],
        "citations": [
            _citation("foia-s31", "24(2)"),
            _citation("foia-s43", "43(2)", public_interest=test),
            _citation("foia-s21", "21", public_interest=test),
            _citation("foia-s21", "21", ncnd=True),
            _citation("foisa-s35", "35(1)(a)"),
        ],
    }
    warnings = service.rule_warnings(_draft(response), law="FOIA")
    assert _rules(warnings) == [
        "response-date at responses[0].responded_on",
        "question-unknown at responses[0].answers[1].questions[0]",
        "citation-provision at responses[0].citations[0].provision",
        "public-interest-absolute at responses[0].citations[2].public_interest",
        "ncnd-not-available at responses[0].citations[3].ncnd",
        "exemption-law at responses[0].citations[4].exemption",
    ]
    assert response["citations"][0] == _citation("foia-s31", "24(2)")  # left as it was


def test_the_rules_of_a_response_as_a_whole_read_all_its_citations() -> None:
    """Setting a refused citation aside does not make another one's partner missing."""
    response = {
        "kind": "initial",
        "responded_on": "2024-04-20",
        "outcome": "neither_confirm_nor_deny",
        "citations": [
            _citation("foisa-s35", "36(2)", ncnd=True),
            _citation("foisa-s18", "18(1)", ncnd=True),
        ],
    }
    draft = {**_draft(response), "force": "police-scotland"}
    assert _rules(service.rule_warnings(draft, law="FOISA")) == [
        "citation-provision at responses[0].citations[0].provision"
    ]
    alone = {**response, "citations": response["citations"][1:]}
    assert _rules(service.rule_warnings(_draft(alone), law="FOISA")) == [
        "ncnd-provision-alone at responses[0].citations[0].exemption"
    ]


def test_the_rules_of_a_requests_responses_together_are_warned() -> None:
    initial = {"kind": "initial", "responded_on": "2024-05-20", "outcome": "not_held"}
    review = {"kind": "internal_review", "responded_on": "2024-05-01", "outcome": "not_held"}
    warnings = service.rule_warnings(_draft(initial, review), law="FOIA")
    assert _rules(warnings) == ["review-initial at responses[1].responded_on"]
    assert _rules(service.rule_warnings(_draft(review), law="FOIA")) == [
        "review-initial at responses[0].kind"
    ]


def test_a_draft_that_keeps_every_rule_has_no_rule_warning() -> None:
    response = {
        "kind": "initial",
        "responded_on": "2024-04-20",
        "outcome": "refused",
        "text": "Withheld.",
        "answers": [{"questions": ["1"], "text": "Withheld"}],
        "citations": [_citation("foia-s31", "31(1)(a)", questions=["1"])],
    }
    assert _rules(service.rule_warnings(_draft(response), law="FOIA")) == []

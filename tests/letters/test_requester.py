"""The requester a letter names never reaches its draft, however the letter writes them.

Drafts go to `foilog import`, whose new requests carry no requester, so no publish-time check
stands behind them: a draft is held here to the publish-time matcher itself."""

import json
from typing import Any

import pytest

from app import privacy
from app.letters.parsing import Draft, parse

NAME = "Zebedee Quartermaine"
EMAIL = "zeb.q@example.org"
KEPT = ("How many drones does the force own", "The force holds 3 drones", "Kent Police")


def _letter(salutation: str = f"Dear {NAME},", *, request: str = "", response: str = "") -> str:
    return (
        "Kent Police\nInformation Rights\nPolice Headquarters, Sutton Road, Maidstone, ME15 9BZ\n\n"
        "26th June 2018\n\nOur Ref: FOI2018/09999\n\n"
        f"{salutation}\n\n"
        "I write in connection with your request for information received on 29th May. "
        "I note you seek access to the following information:\n\n"
        f"1. How many drones does the force own?\n2. How much did they cost?{request}\n\n"
        f"Response\nThe force holds 3 drones.{response}\nThe cost was 10,000 pounds. "
        "Kent Police publishes its spending.\n\n"
        "Yours sincerely\n\nJames Hodson\nInformation Rights\n"
    )


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _texts(item)]
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    return []


def _assert_clean(draft: Draft) -> None:
    """Nothing the publish-time check would refuse, in any field, nor a word of the name left
    beside its placeholder ("[the requester], Zebedee"); and the rest kept."""
    for needles in (
        privacy.Needles(name=NAME, email=EMAIL),
        *(privacy.Needles(name=word) for word in NAME.split()),
    ):
        named = [text for text in _texts(draft.entry) if needles.found_in(text)]
        assert named == []
    drafted = json.dumps(draft.entry)
    for kept in KEPT:
        assert kept in drafted


def _parse(text: str) -> Draft:
    return parse(text, force="kent", force_name="Kent Police", law="FOIA")


@pytest.mark.parametrize(
    ("salutation", "quoted", "answered"),
    [
        pytest.param(f"Dear {NAME},", "\n\nRegards, ZEBEDEE QUARTERMAINE", "", id="capitals"),
        pytest.param(f"Dear {NAME},", "\n\nzebedee quartermaine", "", id="lower-case"),
        pytest.param(
            "Dear Mr Quartermaine,", "", "\nMR QUARTERMAINE'S request was logged.", id="possessive"
        ),
        pytest.param(f"Dear {NAME},", "", "\nFile: Quartermaine, Zebedee", id="surname-first"),
        pytest.param(f"Dear {NAME},", "", "\nWe note Zebedee\nQuartermaine asked.", id="two-lines"),
        pytest.param(
            "Dear Z\u00e9b\u00e9d\u00e9e Quartermaine,",
            "\n\nZebedee Quartermaine",
            "",
            id="accents",
        ),
        pytest.param(f"Dear {NAME},", "\n\nZ. A. Quartermaine", "", id="initials"),
        pytest.param(
            f"Dear {NAME},", "", "\nQuartermaine's request came from Zebedee.", id="words-apart"
        ),
        pytest.param(f"Dear {NAME},", "\n\nZebedee\u200bQuartermaine", "", id="zero-width"),
        pytest.param(
            f"Dear {NAME},", "\n\nZeb<b></b>edee Quartermaine", "", id="markup-breaks-the-name"
        ),
        pytest.param(
            "Dear Zebedee,", "\n\nThanks, ZEBEDEE QUARTERMAINE", "", id="given-name-salutation"
        ),
        pytest.param(f"Dear {NAME},", "\n\nSent from ZEB.Q@EXAMPLE.ORG", "", id="email-capitals"),
    ],
)
def test_no_way_of_writing_a_known_name_reaches_the_draft(
    salutation: str, quoted: str, answered: str
) -> None:
    letter = _letter(salutation, request=quoted, response=answered)
    if "EXAMPLE" in quoted:
        letter = letter.replace("Kent Police\nInformation", f"Kent Police\n{EMAIL}\nInformation")
    _assert_clean(_parse(letter))


@pytest.mark.parametrize(
    "written",
    ["zeb.q [at] example [dot] org", "zeb.q(at)example(dot)org", "zeb dot q at example dot org"],
)
def test_an_email_spelled_out_is_found_reported_and_left_out(written: str) -> None:
    draft = _parse(_letter("Dear Sir,", request=f"\n\nReply to {written} please"))
    _assert_clean(draft)
    assert any(EMAIL in warning for warning in draft.warnings)


def test_an_email_in_a_url_is_left_out() -> None:
    draft = _parse(_letter(request="\n\nmailto:zeb.q%40example.org"))
    _assert_clean(draft)


def test_the_address_is_left_out_however_it_is_written() -> None:
    letter = _letter(response="\nThe disc goes to 1 ACACIA AVENUE, Telford tf1 2ab.")
    letter = letter.replace("26th June", f"{NAME}\n1 Acacia Avenue\nTelford\nTF1 2AB\n\n26th June")
    draft = _parse(letter)
    _assert_clean(draft)
    drafted = json.dumps(draft.entry).lower()
    assert "acacia" not in drafted
    assert "tf1" not in drafted


def test_only_the_requester_is_left_out() -> None:
    """A placeholder stands where the name was; the words around it stay."""
    draft = _parse(_letter(response="\nZEBEDEE QUARTERMAINE asked twice."))
    assert "[the requester] asked twice." in draft.entry["responses"][0]["text"]

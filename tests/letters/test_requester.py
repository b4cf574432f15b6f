"""The requester a letter names never reaches its draft, however the letter writes them.

Drafts go to `foilog import`, whose new requests carry no requester, so no publish-time check
stands behind them: a draft is held here to the publish-time matcher itself."""

import json
from typing import Any

import pytest
from attachment_files import letter_pdf

from app import privacy
from app.letters import reading, redaction, service
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
            f"Dear {NAME},",
            '\n\nForm: Zebedee Quar<span\nclass="surname">termaine</span>',
            "",
            id="a-tag-over-a-line-break-breaks-the-name",
        ),
        pytest.param(
            "Dear Zebedee,", "\n\nThanks, ZEBEDEE QUARTERMAINE", "", id="given-name-salutation"
        ),
        pytest.param(f"Dear {NAME},", "\n\nSent from ZEB.Q@EXAMPLE.ORG", "", id="email-capitals"),
        pytest.param(
            "Dear Mr Quartermaine,",
            "\n\nI, Zebedee Quartermaine, also ask",
            "\nIt was sent to Zebedee Quartermaine.",
            id="title-and-surname-salutation",
        ),
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


# A web form's copy of the request, pasted into the letter as its markup: the PDF wraps the
# long line inside the tag that splits the surname.
PASTED = (
    '\n\nWeb form: <p>from Zebedee Quar<span class="requester-name" data-field="surname-'
    'continued" style="font-weight:bold;color:#333333">termaine</span></p>'
)


@pytest.mark.parametrize(
    ("media_type", "letter"),
    [
        pytest.param(
            "application/pdf", letter_pdf(_letter(request=PASTED)), id="pdf-wraps-the-tag"
        ),
        pytest.param(
            "text/plain",
            _letter(request=PASTED.replace(" data-field", "\n  data-field")).encode(),
            id="html-source-as-text",
        ),
    ],
)
def test_a_tag_that_a_line_break_runs_through_hides_no_name(media_type: str, letter: bytes) -> None:
    """Markup reaches a draft's text only as the letter shows it: from a PDF, a DOCX or a text
    letter (an HTML letter's own tags are read, and its line breaks inside text are spaces).
    A PDF wraps a long line wherever a space falls, inside a tag too; a text letter holding
    HTML source breaks its lines where the source did."""
    text = reading.text_of(letter, reading.sniff(letter) or reading.Kind.TEXT)
    [line] = [line for line in text.split("\n") if "Quar<span" in line]
    assert ">" not in line.partition("Quar<span")[2]  # the tag goes on on the next line
    result = service.extract(letter, media_type=media_type, force="kent", max_bytes=10**6)
    _assert_clean(Draft(result.entry, result.confidence, result.warnings))


@pytest.mark.parametrize(
    "written",
    [
        'Zebedee Quar<span\nclass="surname">termaine</span>',
        "Dear Mr<b\n>Quartermaine,",
        "We wrote to Mr <b>\nQuartermaine</b>.",
        "Reply to zeb.q%40exam\nple.org please",
    ],
)
def test_a_name_markup_hides_over_a_line_break_takes_its_lines(written: str) -> None:
    """Privacy reads the whole text as its markup shows it; so does the draft, and each line
    the requester is shown on so goes whole. The words around a name the text shows as
    written are kept."""
    redactor = redaction.Redactor(names=[NAME], addresses=[], emails=[EMAIL])
    text = f"Kent Police holds 3 drones.\n{written}\nThe cost was 10,000 pounds."
    redacted = redactor.redact(text)
    assert not privacy.Needles(name=NAME, email=EMAIL).found_in(redacted)
    assert redacted.split("\n") == [
        "Kent Police holds 3 drones.",
        *[redaction.LINE] * (written.count("\n") + 1),
        "The cost was 10,000 pounds.",
    ]
    kept = redactor.redact("Kent Police holds 3 drones.\nZebedee\n<b>Quartermaine</b> asked.")
    assert kept == "Kent Police holds 3 drones.\n[the requester]\n<b>[the requester]</b> asked."


@pytest.mark.parametrize(
    "text",
    [
        'Zeb<b\n class="x">edee &amp; Quar&#116;ermaine&nbsp;%41%42 &ampx <a href="%zz">',
        "zeb.q%40exam\nple.org %E2%82%AC%C3 &#x26;lt;b&#x26;gt; <<b>> &#99999999;",
        "no markup at all, or 100% of it",
    ],
)
def test_the_drafts_reading_of_markup_is_privacys(text: str) -> None:
    """Where the draft finds a name its markup hides is worked out piece by piece; what it
    reads is what the publish-time check reads, text for text."""
    assert [shown.text for shown in redaction._shown(text)] == privacy.shown(text)[1:]

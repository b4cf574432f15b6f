"""The extraction rules one at a time, on the wordings and layouts real letters vary in."""

from datetime import date

import pytest

from app.letters import dates, reading
from app.letters.decisions import decide, mentions
from app.letters.parsing import Draft, parse
from app.letters.reading import Kind


def _parse(text: str, force: str = "kent", law: str = "FOIA") -> Draft:
    return parse(text, force=force, force_name="Kent Police", law=law)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("26th June 2018", date(2018, 6, 26)),
        ("Monday, 3rd July 2023", date(2023, 7, 3)),
        ("26 Jun. 2018", date(2018, 6, 26)),
        ("June 26, 2018", date(2018, 6, 26)),
        ("26/06/2018", date(2018, 6, 26)),
        ("16/02/26", date(2026, 2, 16)),
        ("05.05.2016", date(2016, 5, 5)),
        ("2018-06-26", date(2018, 6, 26)),
    ],
)
def test_date_formats(text: str, expected: date) -> None:
    [found] = dates.find_dates(f"on {text}, we")
    assert found.on == expected


def test_a_yearless_date_takes_the_letters_year_or_the_one_before() -> None:
    [may] = dates.find_dates("received on 29th May")
    assert dates.with_year(may, date(2018, 6, 26), None) == date(2018, 5, 29)
    [december] = dates.find_dates("received on 20 December")
    assert dates.with_year(december, date(2019, 1, 10), None) == date(2018, 12, 20)
    assert dates.find_dates("you may 12 times") == []


@pytest.mark.parametrize(
    ("line", "reference"),
    [
        ("Our Ref: FOI2018/02892", "FOI2018/02892"),
        ("Freedom of information request reference no: 01.FOI.22.022487", "01.FOI.22.022487"),
        ("Reference: DC/FOI 782/17", "DC/FOI 782/17"),
        ("Reference No. FOI 1782531/23", "FOI 1782531/23"),
        ("Request Number: IM-FOI-2021-0942", "IM-FOI-2021-0942"),
        ("Our reference: HQ/PA/003493/18.", "HQ/PA/003493/18"),
        ("Freedom of Information Request Reference Number: 2016040001401", "2016040001401"),
        ("FOI Number: 4411/22", "4411/22"),
        ("FREEDOM OF INFORMATION REQUEST 4321", "4321"),
    ],
)
def test_reference_exactly_as_printed(line: str, reference: str) -> None:
    draft = _parse(f"Your ref: ABC 999\n{line}\n\nDear Sir\n\nYours sincerely\n")
    assert draft.entry["reference"] == reference


def test_header_rows_page_furniture_and_initials() -> None:
    draft = _parse(
        "Our Ref: FOI/123/24   Date: 3 May 2024\n\nDear Sir or Madam\n\n"
        "Your request was logged on 4 April 2024. You asked:\n\n"
        "(1) How many horses?\nPage 1 of 2\n(2) How many saddles?\n\n"
        "The information is not held.\n\nYours sincerely\n\nJ Smith\nDisclosure Officer\n"
    )
    entry = draft.entry
    assert entry["reference"] == "FOI/123/24"
    assert entry["received_on"] == "2024-04-04"
    assert entry["responses"][0]["responded_on"] == "2024-05-03"
    assert [q["text"] for q in entry["request"]["questions"]] == [
        "How many horses?",
        "How many saddles?",
    ]
    assert entry["responses"][0]["signatory"] == {"name": "J Smith", "role": "Disclosure Officer"}
    assert entry["responses"][0]["outcome"] == "not_held"


def test_question_numbering_styles() -> None:
    draft = _parse(
        "Dear Sir\n\nYou asked:\n\nQ1 - Cars?\nQuestion 2: Vans?\n3) Bikes:\na. red\nb) blue\n"
        "(i) dark\n(ii) light\n4a. Boats?\n5d(i) Planes?\n\nI can confirm the following.\n"
    )
    numbers = [q["number"] for q in draft.entry["request"]["questions"]]
    assert numbers == ["1", "2", "3", "3a", "3b", "3b(i)", "3b(ii)", "4a", "5d(i)"]


def test_sections_that_are_not_grounds_are_not_citations() -> None:
    text = (
        "This is a refusal notice under Section 17 of the Act. The duty in Section 1(1)(a) and "
        "our duty under section 16 remain; see section 84. We considered S149 Equality Act "
        "2010, section 44 of the Terrorism Act 2000 and section 31(1)(a) of the Freedom of "
        "Information Act 2000, and sections 24(2) and 31(3)."
    )
    found = [(m.exemption.id, m.provision) for m in mentions(text, law="FOIA")]
    assert found == [("foia-s31", "31(1)(a)"), ("foia-s24", "24(2)"), ("foia-s31", "31(3)")]


def test_foisa_and_eir_provisions() -> None:
    foisa = decide(
        "In terms of Section 18(1) of the Act, Police Scotland can neither confirm nor deny "
        "that it holds the information, as it would be exempt under Section 35(1)(a).",
        [],
        law="FOISA",
    )
    assert foisa.outcome is not None
    assert foisa.outcome.value == "neither_confirm_nor_deny"
    assert [(c.exemption, c.provision, c.ncnd) for c in foisa.citations] == [
        ("foisa-s18", "18(1)", True),
        ("foisa-s35", "35(1)(a)", True),
    ]
    eir = decide(
        "The information is withheld under Regulation 12(5)(b) and regulation 13.", [], law="FOIA"
    )
    assert [(c.exemption, c.provision) for c in eir.citations] == [
        ("eir-r12-5-b", "12(5)(b)"),
        ("eir-r13", "13"),
    ]
    scottish = decide("We rely on regulation 10(5)(b).", [], law="FOISA")
    assert scottish.citations == []


@pytest.mark.parametrize(
    ("text", "outcome", "cited"),
    [
        (
            "We cannot confirm or deny whether the information is held, as the cost of "
            "determining this would exceed the appropriate limit (section 12(2)).",
            "cost_limit",
            [("foia-s12", "12(2)", False)],
        ),
        (
            "The force neither confirms nor denies that it holds this information, as the duty "
            "in Section 1(1)(a) does not apply by virtue of Section 23(5).",
            "neither_confirm_nor_deny",
            [("foia-s23", "23(5)", True)],
        ),
        ("The information is not held by the force.", "not_held", []),
        (
            "The information is exempt by virtue of section 40(2).",
            "refused",
            [("foia-s40", "40(2)", False)],
        ),
        (
            "I have decided to disclose some of the information; the rest is exempt under "
            "section 43(2).",
            "partially_disclosed",
            [("foia-s43", "43(2)", False)],
        ),
        (
            "Your request is vexatious under section 14(1).",
            "vexatious_or_repeated",
            [("foia-s14", "14(1)", False)],
        ),
        ("I have decided to disclose the requested information in full.", "disclosed_in_full", []),
    ],
)
def test_outcomes(text: str, outcome: str, cited: list[tuple[str, str, bool]]) -> None:
    decision = decide(text, [], law="FOIA")
    assert decision.outcome is not None
    assert decision.outcome.value == outcome
    assert [(c.exemption, c.provision, c.ncnd) for c in decision.citations] == cited


def test_the_requesters_address_and_email_stay_out() -> None:
    draft = _parse(
        "Mrs Ada Lovelace\n12 Ockham Lane\nSurrey\nKT24 6AB\n\nOur ref: FOI 77/24\n\n"
        "Dear Mrs Lovelace,\n\nYou asked: how many engines? Write to ada@example.com\n\n"
        "The information is not held, Mrs Lovelace; Lovelace's engines are not ours.\n\n"
        "Yours sincerely\n\nB Babbage\nDisclosure Officer\n"
    )
    text = str(draft.entry)
    for private in ("Lovelace", "Ockham", "KT24", "ada@example.com"):
        assert private not in text
    warned = " ".join(draft.warnings)
    assert "Lovelace" in warned
    assert "Ockham Lane" in warned
    assert "ada@example.com" in warned


def test_the_requesters_surname_alone_stays_out() -> None:
    draft = _parse(
        "Our ref: FOI 78/24\n\nDear Mr John Smithers,\n\nYou asked: how many bicycles?\n\n"
        "Smithers asked before; the information is not held.\n\nYours sincerely\n\nB Babbage\n"
    )
    assert "Smithers" not in str(draft.entry)


LETTER_NAMING_THE_REQUESTER = """Police Scotland
PO Box 59
Dundee
DD1 9JU

Our Reference: IM-FOI-2021-0942

14 October 2021

Mr Zebedee Quartermaine
12 Acacia Avenue
Little Snoring
AB1 2CD

Dear Mr Quartermaine,

I refer to your request, which we received on 16 September 2021.

Your request was as follows:

1. Has Police Scotland used covert facial recognition cameras since 2019?
2. If so, where? Please reply to Z. Quartermaine at 12 Acacia Avenue, AB1 2CD.

I can neither confirm nor deny that Police Scotland holds the information. In terms of
Section 18(1) of the Act, it would be exempt in terms of Section 35(1)(a) - Law Enforcement.

Public Interest Test
Factors favouring disclosure
Mr Quartermaine argues for public awareness of how football policing is carried out.
Factors favouring non-disclosure
Efficient and effective law enforcement.

Yours sincerely

Kirsty Mather
Information Management Officer
"""


@pytest.mark.parametrize("as_html", [False, True])
def test_no_field_of_a_draft_names_the_requester(as_html: bool) -> None:
    """Public interest factors too; and an HTML letter's paragraphs keep the address one block
    (each `<p>` a line, an empty one a blank line), so the force's own is not taken for it."""
    text = LETTER_NAMING_THE_REQUESTER
    if as_html:
        paragraphs = "".join(f"<p>{line}</p>" for line in text.split("\n"))
        text = reading.text_of(f"<html><body>{paragraphs}</body></html>".encode(), Kind.HTML)
    draft = parse(text, force="police-scotland", force_name="Police Scotland", law="FOISA")
    drafted = str(draft.entry)
    for private in ("Quartermaine", "Zebedee", "Acacia", "AB1 2CD", "Snoring"):
        assert private not in drafted, private
    factors = [c["public_interest"] for c in draft.entry["responses"][0]["citations"]]
    assert "[the requester] argues" in str(factors)
    addresses = [w for w in draft.warnings if "postal address" in w]
    assert len(addresses) == 1
    assert "DD1 9JU" not in addresses[0]


def test_a_salutation_by_given_name_leaves_out_the_surname_too() -> None:
    draft = _parse(
        "Our ref: FOI 79/24\n\nDear Zebedee,\n\nYou asked: how many drones?\n\n"
        "Zebedee Quartermaine asked before, and Mr Quartermaine was told the information is "
        "not held. Kent Police holds none.\n\nYours sincerely\n\nB Babbage\n"
    )
    drafted = str(draft.entry)
    assert "Quartermaine" not in drafted
    assert "Kent Police" in drafted

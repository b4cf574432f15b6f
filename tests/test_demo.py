import copy
import json
import random
import re
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime
from importlib import resources
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.deadlines import due_on
from app.demo import (
    OUTCOMES,
    RARE_PHRASES,
    REQUEST_WORDS,
    RESPONSE_WORDS,
    ROUND_ROBINS,
    TOPICS,
    demo_entries,
    generate_entries,
    round_robin_entries,
    seed_drafts,
    seed_entries,
)
from app.imports.schemas import ImportDocument
from app.imports.service import import_entries
from app.keys.schemas import Actor


def _reference(name: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(
        (resources.files("app") / "reference" / name).read_text(encoding="utf-8")
    )
    return data


FORCE_LAW = {force["id"]: force["law"] for force in _reference("forces.json")}
EXEMPTIONS = {row["id"]: row for row in _reference("exemptions.json")}
TOPIC_SLUGS = {topic.slug for topic in TOPICS}
INPUT_KEYS = {
    "force",
    "reference",
    "aliases",
    "title",
    "topics",
    "received_on",
    "published_at",
    "request",
    "responses",
}
RESPONSE_KEYS = {"kind", "responded_on", "outcome", "text", "answers", "citations", "signatory"}
CITATION_KEYS = {"exemption", "provision", "ncnd", "questions", "public_interest", "harm"}
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


def _violations(entry: dict[str, Any]) -> list[str]:
    """Every SPEC §1 consistency rule (and the input-only shape of §7) that `entry` breaks."""
    found: list[str] = []
    if set(entry) != INPUT_KEYS:
        found.append(f"keys {sorted(set(entry) ^ INPUT_KEYS)}")
    law = FORCE_LAW[entry["force"]]
    topics = entry["topics"]
    if not 1 <= len(topics) <= 3 or len(set(topics)) != len(topics):
        found.append(f"topics {topics}")
    numbers = [question["number"] for question in entry["request"]["questions"]]
    if not numbers or len(set(numbers)) != len(numbers):
        found.append(f"question numbers {numbers}")
    received = date.fromisoformat(entry["received_on"])
    previous = received
    responses = entry["responses"]
    if not responses or responses[0]["kind"] != "initial":
        found.append("first response is not initial")
    for position, response in enumerate(responses):
        where = f"response {position}"
        if set(response) != RESPONSE_KEYS:
            found.append(f"{where} keys {sorted(set(response) ^ RESPONSE_KEYS)}")
        if position and response["kind"] != "internal_review":
            found.append(f"{where} is a second initial response")
        responded = date.fromisoformat(response["responded_on"])
        if responded < previous or (position and responded == previous):
            found.append(f"{where} dated {responded}, not after {previous}")
        previous = responded
        for answer in response["answers"]:
            if not answer["questions"] or not set(answer["questions"]) <= set(numbers):
                found.append(f"{where} answers {answer['questions']} of {numbers}")
        found.extend(_citation_violations(response, law, numbers, where))
        if not response["signatory"] or not response["signatory"]["role"]:
            found.append(f"{where} has no signatory role")
    published = entry["published_at"]
    if not TIMESTAMP.fullmatch(published) or datetime.fromisoformat(published).date() <= previous:
        found.append(f"published_at {published} not after the last response {previous}")
    return found


def _citation_violations(
    response: dict[str, Any], law: str, numbers: list[str], where: str
) -> list[str]:
    found: list[str] = []
    citations = response["citations"]
    cited = [citation["exemption"] for citation in citations]
    if len(set(cited)) != len(cited):
        found.append(f"{where} cites an exemption twice: {cited}")
    for citation in citations:
        row = EXEMPTIONS[citation["exemption"]]
        if set(citation) != CITATION_KEYS:
            found.append(f"{where} citation keys {sorted(set(citation) ^ CITATION_KEYS)}")
        if row["law"] != law and not (law == "FOIA" and row["law"] == "EIR"):
            found.append(f"{where} cites {row['id']} under {law}")
        if citation["ncnd"] and row["ncnd_subsection"] is None:
            found.append(f"{where} neither confirms nor denies under {row['id']}")
        if not set(citation["questions"]) <= set(numbers):
            found.append(f"{where} citation covers {citation['questions']} of {numbers}")
        public_interest = citation["public_interest"]
        if (public_interest is not None) != (row["kind"] == "qualified"):
            found.append(f"{where} public interest {public_interest} on a {row['kind']} exemption")
        elif public_interest is not None and not (
            public_interest["for"] and public_interest["against"] and public_interest["balance"]
        ):
            found.append(f"{where} public interest test incomplete: {public_interest}")
    outcome = response["outcome"]
    if outcome not in OUTCOMES:
        found.append(f"{where} outcome {outcome}")
    if outcome == "disclosed_in_full" and citations:
        found.append(f"{where} disclosed in full yet cites {cited}")
    if outcome in ("refused", "partially_disclosed") and not citations:
        found.append(f"{where} {outcome} without a citation")
    if outcome == "neither_confirm_nor_deny" and not any(c["ncnd"] for c in citations):
        found.append(f"{where} neither confirms nor denies without an NCND citation")
    if outcome == "cost_limit" and cited not in (["foia-s12"], ["foisa-s12"]):
        found.append(f"{where} cost limit cites {cited}")
    if outcome == "vexatious_or_repeated" and cited not in (["foia-s14"], ["foisa-s14"]):
        found.append(f"{where} vexatious cites {cited}")
    return found


def _words(text: str) -> int:
    return len(text.split())


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


@pytest.fixture(scope="module")
def generated() -> list[dict[str, Any]]:
    return list(generate_entries(5_000, seed=3))


@pytest.fixture(scope="module")
def many() -> list[dict[str, Any]]:
    return list(generate_entries(20_000))


@pytest.fixture(scope="module")
def demo() -> list[dict[str, Any]]:
    return list(demo_entries())


def test_same_seed_same_entries_whatever_the_global_random_state() -> None:
    random.seed(1)
    first = list(generate_entries(300, seed=7))
    random.seed(2)
    assert list(generate_entries(300, seed=7)) == first


def test_other_seed_or_start_gives_other_entries() -> None:
    base = list(generate_entries(50, seed=7))
    other_seed = list(generate_entries(50, seed=8))
    assert [e["request"]["text"] for e in other_seed] != [e["request"]["text"] for e in base]
    later = list(generate_entries(50, seed=7, start_index=50))
    assert {e["request"]["text"] for e in later}.isdisjoint(e["request"]["text"] for e in base)


def test_count_and_start_index_are_checked() -> None:
    assert list(generate_entries(0)) == []
    with pytest.raises(ValueError, match="count"):
        list(generate_entries(-1))
    with pytest.raises(ValueError, match="start_index"):
        list(generate_entries(1, start_index=-1))


def test_references_and_aliases_are_unique_per_force(many: list[dict[str, Any]]) -> None:
    later = list(generate_entries(2_000, seed=9, start_index=len(many)))
    known: Counter[tuple[str, str]] = Counter()
    for entry in [*seed_entries(), *many, *later]:
        for reference in [entry["reference"], *entry["aliases"]]:
            # The API matches references ignoring case and spaces, so they must differ so too.
            known[entry["force"], re.sub(r"\s+", "", reference).lower()] += 1
    assert [key for key, seen in known.items() if seen > 1] == []
    assert sum(1 for entry in many if entry["aliases"]) > len(many) // 50


def test_generated_entries_keep_every_consistency_rule(generated: list[dict[str, Any]]) -> None:
    broken = {entry["reference"]: _violations(entry) for entry in generated}
    assert {reference: found for reference, found in broken.items() if found} == {}


def test_rule_check_catches_broken_entries(generated: list[dict[str, Any]]) -> None:
    def first(outcome: str, law: str = "FOIA") -> dict[str, Any]:
        return copy.deepcopy(
            next(
                entry
                for entry in generated
                if entry["responses"][0]["outcome"] == outcome and FORCE_LAW[entry["force"]] == law
            )
        )

    wrong_law = first("refused")
    wrong_law["responses"][0]["citations"][0]["exemption"] = "foisa-s35"
    ncnd_not_allowed = first("neither_confirm_nor_deny")
    ncnd_not_allowed["responses"][0]["citations"][0]["exemption"] = "foia-s21"
    refused_bare = first("refused")
    refused_bare["responses"][0]["citations"] = []
    stray_answer = first("disclosed_in_full")
    stray_answer["responses"][0]["answers"][0]["questions"] = ["99"]
    early = first("not_held")
    early["responses"][0]["responded_on"] = "2009-12-31"
    output_field = first("advice_only")
    output_field["due_on"] = "2020-01-01"
    for entry in (wrong_law, ncnd_not_allowed, refused_bare, stray_answer, early, output_field):
        assert _violations(entry)


def test_generated_counts_and_word_ranges(generated: list[dict[str, Any]]) -> None:
    low, high = REQUEST_WORDS
    response_low, response_high = RESPONSE_WORDS
    for entry in generated:
        assert low <= _words(entry["request"]["text"]) <= high
        assert 1 <= len(entry["request"]["questions"]) <= 6
        assert set(entry["topics"]) <= TOPIC_SLUGS
        assert "2010-01-01" <= entry["received_on"] <= "2026-10-31"
        for response in entry["responses"]:
            assert response_low <= _words(response["text"]) <= response_high
            assert len(response["citations"]) <= 3


def test_question_numbers_include_sub_parts(generated: list[dict[str, Any]]) -> None:
    numbers = {q["number"] for entry in generated for q in entry["request"]["questions"]}
    assert {"1", "6", "4a", "5d(i)"} <= numbers


def test_most_initial_responses_meet_the_statutory_deadline(
    generated: list[dict[str, Any]],
) -> None:
    on_time = late = reviewed = 0
    for entry in generated:
        law = FORCE_LAW[entry["force"]]
        due = due_on(date.fromisoformat(entry["received_on"]), law)
        if date.fromisoformat(entry["responses"][0]["responded_on"]) <= due:
            on_time += 1
        else:
            late += 1
        reviewed += len(entry["responses"]) > 1
    assert on_time > 0.8 * len(generated)
    assert late > 0.02 * len(generated)
    assert 0.02 * len(generated) < reviewed < 0.1 * len(generated)


def test_every_outcome_exemption_law_and_ncnd_shape_occurs(
    generated: list[dict[str, Any]],
) -> None:
    outcomes = Counter(r["outcome"] for entry in generated for r in entry["responses"])
    assert set(outcomes) == set(OUTCOMES)
    citations = [c for entry in generated for r in entry["responses"] for c in r["citations"]]
    assert {EXEMPTIONS[c["exemption"]]["law"] for c in citations} == {"FOIA", "FOISA", "EIR"}
    ncnd_provisions = {c["provision"] for c in citations if c["ncnd"]}
    assert {"24(2)", "31(3)", "18(1)"} <= ncnd_provisions
    assert len({c["exemption"] for c in citations}) > 40


def test_demo_shows_every_force_and_outcome(demo: list[dict[str, Any]]) -> None:
    assert len(demo) == 301
    assert {entry["force"] for entry in demo} == set(FORCE_LAW)
    assert {r["outcome"] for entry in demo for r in entry["responses"]} == set(OUTCOMES)
    assert any(len(entry["responses"]) > 1 for entry in demo)
    assert any(entry["aliases"] for entry in demo)
    assert all(not _violations(entry) for entry in demo)


def test_demo_documents_parse_as_import_documents(demo: list[dict[str, Any]]) -> None:
    for entry in demo:
        ImportDocument.model_validate(entry)


def test_demo_imports_through_the_import_service(session: Session) -> None:
    lines = [orjson.dumps(entry) for entry in demo_entries(100)]
    result = import_entries(session, lines, actor=Actor.system("test"))
    assert (result.created, result.updated) == (101, 0)


def test_demo_round_robins_link_every_force_they_went_to(
    session: Session, client: TestClient
) -> None:
    """Imported beside generated entries, each demo round-robin is one group of all its copies,
    received together, each copy its own force's answer."""
    documents = [*demo_entries(60), *round_robin_entries()]
    import_entries(session, [orjson.dumps(d) for d in documents], actor=Actor.system("test"))
    listed = client.get("/v1/round-robins").json()["items"]
    assert sorted(group["size"] for group in listed) == sorted(ROUND_ROBINS)
    for group in listed:
        detail = client.get(f"/v1/round-robins/{group['id']}").json()
        titles = {entry["title"] for entry in detail["entries"]}
        forces = [entry["force"] for entry in detail["entries"]]
        assert len(titles) == 1
        assert len(set(forces)) == group["size"]
        assert len(detail["by_outcome"]) > 1
        received = sorted(date.fromisoformat(entry["received_on"]) for entry in detail["entries"])
        # Sent together: each copy within three days of the first.
        assert (received[-1] - received[0]).days <= 6


def test_no_requester_data_anywhere(demo: list[dict[str, Any]]) -> None:
    keys = {key.lower() for key in _keys(demo)}
    assert not {key for key in keys if re.search("requester|requestor|email|address", key)}
    assert [text for text in _strings(demo) if EMAIL.search(text)] == []


def test_hertfordshire_seed_carries_the_letters_facts() -> None:
    entry = next(e for e in seed_entries() if e["reference"] == "FOI2018/02892")
    assert (entry["force"], entry["received_on"]) == ("hertfordshire", "2018-05-29")
    assert entry["published_at"] == "2018-06-27T09:00:00Z"
    assert [q["number"] for q in entry["request"]["questions"]] == [str(n) for n in range(1, 18)]
    [response] = entry["responses"]
    assert (response["responded_on"], response["outcome"]) == (
        "2018-06-26",
        "neither_confirm_nor_deny",
    )
    assert [(c["exemption"], c["provision"], c["ncnd"]) for c in response["citations"]] == [
        ("foia-s24", "24(2)", True),
        ("foia-s31", "31(3)", True),
    ]
    assert all(c["public_interest"]["balance"] for c in response["citations"])
    assert response["signatory"] == {"name": "James Hodson", "role": "Information Rights"}
    assert {"facial-recognition", "biometrics"} <= set(entry["topics"])
    assert not _violations(entry)


def test_metropolitan_seed_is_read_but_not_given_invented_dates() -> None:
    met = next(d for d in seed_drafts() if d.entry["force"] == "metropolitan")
    assert met.missing == ["received_on", "responses[0].responded_on"]
    assert "received_on" not in met.entry
    assert met.entry["reference"] == "01.FOI.22.022487"
    assert all(e["reference"] != "01.FOI.22.022487" for e in seed_entries())


def test_seed_entries_are_fresh_copies() -> None:
    first = seed_entries()
    first[0]["responses"][0]["citations"].clear()
    assert seed_entries()[0]["responses"][0]["citations"]


def test_rare_phrases_occur_exactly_where_documented(many: list[dict[str, Any]]) -> None:
    texts = [orjson.dumps(entry).decode().lower() for entry in many]
    for phrase, period in RARE_PHRASES.items():
        expected = [i for i in range(len(many)) if i % period == period // 2]
        assert [i for i, entry in enumerate(many) if phrase in entry["request"]["text"]] == (
            expected
        )
        rare_word = phrase.split()[0]
        assert [i for i, text in enumerate(texts) if rare_word in text] == expected
    hovercraft = sum("hovercraft patrol" in text for text in texts)
    assert sum("patrol" in text for text in texts) > 10 * hovercraft


def test_vocabulary_has_common_and_rare_words(generated: list[dict[str, Any]]) -> None:
    document_frequency: Counter[str] = Counter()
    for entry in generated:
        text = " ".join(
            [entry["request"]["text"], *(r["text"] for r in entry["responses"])]
        ).lower()
        document_frequency.update(set(re.findall(r"[a-z]+", text)))
    total = len(generated)
    assert {"police", "information", "request"} <= {
        word for word, seen in document_frequency.items() if seen > 0.8 * total
    }
    assert sum(1 for seen in document_frequency.values() if seen <= 2) > 200

"""Extraction as a use case: a letter's bytes and a force in, a draft entry out, nothing stored.

The force's law and name and the exemption catalogue come from the project's reference data,
so the command line extracts without a database."""

import json
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from pydantic import ValidationError

from app.entries.schemas import Citation, ResponseBody
from app.errors import InvalidInput, NotFound, PayloadTooLarge, RuleViolation
from app.foi_requests.service import check_questions
from app.foi_responses.service import check_outcome
from app.imports.schemas import ImportDocument
from app.letters import parsing, reading
from app.letters.schemas import Extraction
from app.models import Outcome


@cache
def forces() -> dict[str, dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(
        (resources.files("app") / "reference" / "forces.json").read_text(encoding="utf-8")
    )
    return {row["id"]: row for row in rows}


def force_of(force_id: str) -> dict[str, Any]:
    force = forces().get(force_id)
    if force is None:
        raise NotFound(f"no force with id {force_id!r}; GET /v1/forces lists them")
    return force


def extract(data: bytes, *, media_type: str, force: str, max_bytes: int) -> Extraction:
    """Read one letter (its type judged from its bytes) and draft its entry."""
    row = force_of(force)
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"a letter may hold at most {max_bytes} bytes")
    if not data.strip():
        raise InvalidInput(
            "the letter is empty", errors=[{"loc": ["body"], "msg": "no bytes were sent"}]
        )
    kind = reading.decide(data, media_type)
    text = reading.text_of(data, kind)
    if not text.strip():
        raise InvalidInput(
            "the letter holds no text", errors=[{"loc": ["body"], "msg": "no text found"}]
        )
    draft = parsing.parse(text, force=force, force_name=row["name"], law=row["law"])
    warnings = draft.warnings + rule_warnings(draft.entry)
    return Extraction(entry=draft.entry, confidence=draft.confidence, warnings=warnings)


def rule_warnings(entry: dict[str, Any]) -> list[str]:
    """The SPEC §1 rules a draft breaks, and what import would refuse, each named; the draft
    itself is left as the letter has it."""
    found: list[str] = []
    try:
        check_questions([q["number"] for q in entry["request"]["questions"]], loc=("request",))
    except RuleViolation as exc:
        found.append(f"rule {exc.rule}: {exc.detail}")
    received = entry.get("received_on")
    for i, response in enumerate(entry["responses"]):
        responded = response.get("responded_on")
        if received and responded and date.fromisoformat(responded) < date.fromisoformat(received):
            found.append(
                f"rule response-date: responses[{i}] is dated {responded}, before the request "
                f"was received ({received})"
            )
        if "outcome" in response:
            body = ResponseBody.model_construct(
                responded_on=date.fromisoformat(responded) if responded else date.min,
                outcome=Outcome(response["outcome"]),
                citations=[
                    Citation.model_construct(
                        exemption=c["exemption"], provision=c["provision"], ncnd=c["ncnd"]
                    )
                    for c in response["citations"]
                ],
            )
            try:
                check_outcome(body, loc=("responses", i))
            except RuleViolation as exc:
                found.append(f"rule {exc.rule}: {exc.detail}")
    try:
        ImportDocument.model_validate(entry)
    except ValidationError as exc:
        missing = [
            ".".join(str(p) for p in error["loc"])
            for error in exc.errors()
            if error["type"] == "missing"
        ]
        other = [error for error in exc.errors() if error["type"] != "missing"]
        if missing:
            found.append("import: needs " + ", ".join(missing) + " before `foilog import`")
        for error in other[:5]:
            where = ".".join(str(p) for p in error["loc"])
            found.append(f"import: {where}: {error['msg']}")
    return found

"""Extraction as a use case: a letter's bytes and a force in, a draft entry out, nothing stored.

The force's law and name and the exemption catalogue come from the project's reference data,
so the command line extracts without a database."""

import json
from collections.abc import Sequence
from datetime import date
from functools import cache
from importlib import resources
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from app.entries.schemas import Answer, Citation, ResponseBody
from app.errors import InvalidInput, NotFound, PayloadTooLarge, RuleViolation
from app.exemptions.schemas import ExemptionPublic
from app.exemptions.service import Catalogue
from app.foi_requests import service as requests
from app.foi_requests.service import check_questions
from app.foi_responses.service import check, check_all, check_ncnd_partners, check_outcome
from app.imports.schemas import ImportDocument
from app.letters import parsing, reading
from app.letters.schemas import Extraction
from app.models import Outcome, ResponseKind


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
    warnings = draft.warnings + rule_warnings(draft.entry, law=row["law"])
    return Extraction(entry=draft.entry, confidence=draft.confidence, warnings=warnings)


# A refused rule: its name, where (a path in the entry document), and why.
Refusal = tuple[str, tuple[str | int, ...], str]
Part = TypeVar("Part", bound=BaseModel)


@cache
def exemption_catalogue() -> Catalogue:
    """The exemption catalogue as the citation rules read it, from the project's reference data
    (the migrations load the same file)."""
    rows = json.loads(
        (resources.files("app") / "reference" / "exemptions.json").read_text(encoding="utf-8")
    )
    return Catalogue(ExemptionPublic.model_validate(row) for row in rows)


def rule_warnings(entry: dict[str, Any], *, law: str) -> list[str]:
    """The SPEC §1 rules a draft breaks, as the write API and import would refuse them (their
    own checks, from app/foi_responses), and what import's validation would refuse, each named;
    the draft itself is left as the letter has it, for a person to correct."""
    found: list[Refusal] = []
    try:
        check_questions([q["number"] for q in entry["request"]["questions"]], loc=("request",))
    except RuleViolation as exc:
        found.append(_refusal(exc))
    received = _date(entry.get("received_on"))
    questions = {q["number"] for q in entry["request"]["questions"]}
    bodies = [_body(response, received) for response in entry["responses"]]
    for i, body in enumerate(bodies):
        found += _refusals(body, received_on=received, law=law, questions=questions, at=i)
    found += _refusals_together(bodies, law=law)
    warnings = [
        f"rule {rule} at {_path(loc)}: {detail}" for rule, loc, detail in dict.fromkeys(found)
    ]
    return warnings + _import_warnings(entry)


def _refusal(exc: RuleViolation) -> Refusal:
    loc = exc.errors[0]["loc"] if exc.errors else []
    return (exc.rule, tuple(loc), exc.detail)


def _path(loc: Sequence[str | int]) -> str:
    """`responses[0].citations[1].provision`, as the draft's other warnings name fields."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else part
    return path or "entry"


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _part(model: type[Part], data: dict[str, Any]) -> Part:
    """A part of a draft as the rules read it; import's validation speaks for its form."""
    try:
        return model.model_validate(data)
    except ValidationError:
        return model.model_construct(**data)


def _body(response: dict[str, Any], received: date | None) -> ResponseBody:
    """A draft's response as the rules read it. A date it lacks is taken as the request's, and
    an outcome it lacks is none: a warning already asks for them."""
    outcome = response.get("outcome")
    fields: dict[str, Any] = {
        "kind": ResponseKind(response.get("kind") or ResponseKind.INITIAL),
        "responded_on": _date(response.get("responded_on")) or received or date.min,
        # None, outside the type, is an outcome no rule asks anything of.
        "outcome": Outcome(outcome) if outcome else None,
        "answers": [_part(Answer, answer) for answer in response.get("answers") or []],
        "citations": [_part(Citation, citation) for citation in response.get("citations") or []],
    }
    return ResponseBody.model_construct(**fields)


def _refusals(
    body: ResponseBody, *, received_on: date | None, law: str, questions: set[str], at: int
) -> list[Refusal]:
    """Every refusal of `check` for one response, where `check` stops at the first: each
    refused part (its date, an answer, a citation) is set aside and the rest checked again.
    The rules of the response as a whole, which setting a citation aside would answer
    otherwise, are run on all of it."""
    loc = ("responses", at)
    received = received_on or date.min
    kept = {
        "answers": list(range(len(body.answers))),
        "citations": list(range(len(body.citations))),
    }
    found: list[Refusal] = []
    probe = body
    while True:
        try:
            check(
                probe,
                received_on=received,
                law=law,
                questions=questions,
                catalogue=exemption_catalogue(),
                loc=loc,
            )
            break
        except RuleViolation as exc:
            rule, where, detail = _refusal(exc)
        if (rule, where, detail) in _as_a_whole(probe, loc):
            break  # every part passed
        part = where[len(loc) :]
        if part[:1] == ("responded_on",) and probe.responded_on != received:
            found.append((rule, where, detail))
            probe = probe.model_copy(update={"responded_on": received})
        elif part[:1] in (("answers",), ("citations",)) and len(part) > 1:
            field, index = str(part[0]), int(part[1])
            found.append((rule, (*loc, field, kept[field][index], *part[2:]), detail))
            del kept[field][index]
            left = [item for i, item in enumerate(getattr(probe, field)) if i != index]
            probe = probe.model_copy(update={field: left})
        else:
            found.append((rule, where, detail))
            break
    return found + _as_a_whole(body, loc)


def _as_a_whole(body: ResponseBody, loc: tuple[str | int, ...]) -> list[Refusal]:
    """What the rules of a response as a whole refuse in it: the citations one needs beside
    another, and those its outcome needs."""
    found: list[Refusal] = []
    try:
        check_ncnd_partners(body, catalogue=exemption_catalogue(), loc=loc)
    except RuleViolation as exc:
        found.append(_refusal(exc))
    try:
        check_outcome(body, loc=loc)
    except RuleViolation as exc:
        found.append(_refusal(exc))
    return found


def _refusals_together(bodies: list[ResponseBody], *, law: str) -> list[Refusal]:
    """What the rules of a request's responses together refuse (a review follows an initial
    response): `check_all` on the responses' kinds and dates alone, so that no rule of one
    response, reported already, stands before them."""
    today = requests.today()
    bare: list[dict[str, Any]] = [
        {"kind": body.kind, "responded_on": min(body.responded_on, today), "outcome": None}
        for body in bodies
    ]
    dated = [ResponseBody.model_construct(**fields) for fields in bare]
    try:
        check_all(
            dated,
            received_on=date.min,
            law=law,
            questions=set(),
            catalogue=exemption_catalogue(),
            loc=("responses",),
        )
    except RuleViolation as exc:
        return [_refusal(exc)]
    return []


def _import_warnings(entry: dict[str, Any]) -> list[str]:
    """What import's validation of the entry document would refuse."""
    found: list[str] = []
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

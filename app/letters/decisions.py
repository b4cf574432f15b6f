"""What a response decided: the exemption citations it relies on, their neither-confirm-nor-deny
use, public interest test and harm reasoning, and the outcome in the SPEC §1 vocabulary.

The rules read the wording police FOI letters share (the College of Policing's templates and the
ICO's guidance shape most of them), not any one force's layout."""

import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from app.models import Outcome


@dataclass(frozen=True, slots=True)
class Exemption:
    id: str
    law: str
    section: str
    kind: str
    test: str | None
    ncnd_subsections: tuple[str, ...]


@cache
def catalogue() -> dict[str, Exemption]:
    """The exemption catalogue as the project ships it (the migrations load the same file)."""
    rows: list[dict[str, Any]] = json.loads(
        (resources.files("app") / "reference" / "exemptions.json").read_text(encoding="utf-8")
    )
    return {
        row["id"]: Exemption(
            row["id"],
            row["law"],
            row["section"],
            row["kind"],
            row["test"],
            tuple(p.strip() for p in (row["ncnd_subsection"] or "").split(",") if p.strip()),
        )
        for row in rows
    }


@dataclass(slots=True)
class Mention:
    exemption: Exemption
    provision: str
    start: int


@dataclass(slots=True)
class Found:
    exemption: str
    provision: str
    ncnd: bool
    public_interest: dict[str, Any] | None = None
    harm: str | None = None
    start: int = 0


@dataclass(slots=True)
class Decision:
    outcome: Outcome | None
    outcome_confidence: float
    citations: list[Found] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


_PARENS = r"(?:\s?\(\s?[0-9]{1,2}[A-Za-z]?\s?\)|\s?\(\s?[a-z]{1,4}\s?\))*"
_NUMBER = r"[0-9]{1,2}[A-Z]?(?![0-9])" + _PARENS
_SECTION_WORD = re.compile(r"(?<![A-Za-z])(?:sections?|ss?\.|s(?=\s?[0-9]))\s?", re.I)
_REGULATION_WORD = re.compile(r"(?<![A-Za-z])(?:regulations?|regs?\.?|r\.)\s?", re.I)
_FIRST = re.compile(_NUMBER)
_MORE = re.compile(
    r"\s*(?:,|;|and|&|or|/)\s*(?:(?:sections?|ss?\.?|s|regulations?|regs?\.?)\s?)?("
    + _NUMBER
    + ")",
    re.I,
)
# "section 149 of the Equality Act", "S44 Terrorism Act 2000": another statute's section.
_OTHER_ACT = re.compile(
    r"^\s*(?:of\s+(?:the\s+)?|\(|,\s*)?(?P<name>(?:[A-Z][\w'\u2019]*\s+(?:and\s+|of\s+)?){1,6})"
    r"(?:Act|Order|Regulations|Rules|Code)\b"
)
_OUR_ACTS = re.compile(r"freedom of information|environmental information|foi", re.I)


def _provision(raw: str) -> str:
    return re.sub(r"\s+", "", raw)


def _main(provision: str) -> str:
    return provision.split("(")[0]


def _is_other_act(text: str, end: int) -> bool:
    match = _OTHER_ACT.match(text[end : end + 80])
    return match is not None and not _OUR_ACTS.search(match["name"])


def _exemption_for(provision: str, *, law: str, regulation: bool) -> Exemption | None:
    known = catalogue()
    if regulation:
        if law != "FOIA":
            return None  # Scotland's own environmental regulations are out of scope
        parts = re.findall(r"\(([^)]*)\)", provision)
        main = _main(provision)
        if main == "13":
            return known.get("eir-r13")
        if main == "12" and len(parts) >= 2 and parts[0] in ("4", "5"):
            return known.get(f"eir-r12-{parts[0]}-{parts[1].lower()}")
        if main == "12" and parts[:1] == ["6"]:
            return known.get("eir-r12-5-a")  # 12(6): neither confirm nor deny under 12(5)(a)
        return None
    prefix = "foisa" if law == "FOISA" else "foia"
    exemption = known.get(f"{prefix}-s{_main(provision).lower()}")
    if exemption is None or exemption.id == "foia-s25":  # s25 certifies, it does not exempt
        return None
    return exemption


def mentions(text: str, *, law: str) -> list[Mention]:
    """Every provision of the force's law (or the EIR) that `text` cites, in order; sections of
    the Act that are not grounds for refusal (s1, s16, s17 under FOIA, s84) and other statutes'
    sections are left out."""
    found: list[Mention] = []
    for word, regulation in ((_SECTION_WORD, False), (_REGULATION_WORD, True)):
        for match in word.finditer(text):
            first = _FIRST.match(text, match.end())
            if first is None:
                continue
            items = [(first.group(0), first.end())]
            position = first.end()
            while (more := _MORE.match(text, position)) is not None:
                items.append((more.group(1), more.end()))
                position = more.end()
            if _is_other_act(text, position):
                continue
            for raw, _ in items:
                provision = _provision(raw)
                exemption = _exemption_for(provision, law=law, regulation=regulation)
                if exemption is not None:
                    found.append(Mention(exemption, provision, match.start()))
    found.sort(key=lambda m: m.start)
    return found


def _ncnd_provision(exemption: Exemption, provision: str) -> bool:
    if exemption.id == "eir-r12-5-a" and provision.startswith("12(6)"):
        return True
    if "(" not in provision or exemption.id in ("foia-s12", "foisa-s12"):
        return False
    if exemption.law == "FOISA":
        return exemption.id == "foisa-s18"
    stem = provision.replace(")", "")
    return any(
        stem.startswith(sub.replace(")", "")) or sub.replace(")", "").startswith(stem)
        for sub in exemption.ncnd_subsections
    )


def _merge(found: list[Mention]) -> list[Found]:
    """One citation per provision: a bare `section 24` folds into `24(2)` cited elsewhere, and
    `31(1)` into `31(1)(a)`."""
    kept: list[Found] = []
    for mention in found:
        exemption, provision = mention.exemption, mention.provision
        same = [c for c in kept if c.exemption == exemption.id]
        if any(c.provision == provision or c.provision.startswith(provision) for c in same):
            continue
        wider = next((c for c in same if provision.startswith(c.provision)), None)
        if wider is not None:
            wider.provision = provision
            wider.ncnd = _ncnd_provision(exemption, provision)
            continue
        kept.append(
            Found(
                exemption.id, provision, _ncnd_provision(exemption, provision), start=mention.start
            )
        )
    return kept


def _has(pattern: str, text: str) -> bool:
    return re.search(pattern, text, re.I) is not None


NCND_WORDS = (
    r"neither\s+confirm(?:s|ing)?\s+(?:n)?or\s+den(?:y|ies|ying)"
    r"|duty\s+(?:in|under|imposed\s+by|to\s+confirm\s+or\s+deny\s+(?:in|under))?\s*"
    r"(?:section|s\.?)\s?1\s?\(1\)\s?\(a\)[^.]{0,120}?does\s+not\s+apply"
    r"|(?:duty|obligation)\s+to\s+confirm\s+or\s+deny[^.]{0,60}?(?:does\s+not\s+apply|is\s+removed|is\s+excluded|not\s+to\s+apply)"
    r"|(?:cannot|can\s+not|will\s+not|unable\s+to)\s+confirm\s+or\s+deny"
    r"|refuse[sd]?\s+to\s+reveal\s+whether\s+(?:the\s+)?information"
    r"|reveal\s+whether\s+(?:the\s+)?information\s+(?:exists|is\s+held)"
)
COST_WORDS = (
    r"exceed(?:s|ed|ing)?\s+the\s+(?:appropriate|cost|fees?|upper)\s+limit|appropriate\s+limit"
    r"|cost\s+of\s+compl(?:iance|ying)[^.]{0,80}?exceed|excessive\s+cost|exceed\s+18\s+hours"
    r"|more\s+than\s+18\s+hours|\u00a3450|\u00a3600|cost\s+threshold|fees\s+limit"
)
VEXATIOUS_WORDS = (
    r"\bvexatious\b(?!\s+or\s+repeated\s+requests?\s+(?:procedure|policy))|repeated\s+request"
)
PARTIAL_WORDS = (
    r"(?:decided|able|pleased)\s+to\s+(?:disclose|release|provide)\s+(?:some|part|parts|a\s+part|"
    r"only\s+some|certain|limited)"
    r"|partial(?:ly)?\s+(?:disclos|releas|provid)|partial\s+disclosure|part(?:ial)?\s+refusal"
    r"|some\s+(?:of\s+the\s+)?(?:requested\s+)?(?:information|data|details)\s+(?:has|have|is|are)"
    r"\s+(?:been\s+)?(?:withheld|redacted|exempt)"
    r"|(?:has|have)\s+been\s+redacted|redactions?\s+(?:have|has)\s+been\s+(?:made|applied)"
    r"|remaining\s+information\s+is\s+(?:withheld|exempt)|withheld\s+in\s+part"
    r"|refusal\s+notice\s+(?:in\s+respect\s+of|for|in\s+relation\s+to)\s+(?:questions?|part|"
    r"the\s+remainder|some)"
)
DISCLOSE_WORDS = (
    r"(?:decided|able|pleased)\s+to\s+(?:disclose|release|provide)\s+(?:the|all|this|your|"
    r"located|requested|information)"
    r"|(?:information|data|figures|statistics)\s+(?:you\s+)?(?:requested\s+)?(?:is|are)\s+"
    r"(?:attached|enclosed|provided\s+below|set\s+out\s+below|shown\s+below|below|as\s+follows)"
    r"|please\s+(?:find|see)\s+(?:attached|enclosed|below)\s+(?:the\s+)?(?:requested\s+)?"
    r"(?:information|data|figures|statistics|table|spreadsheet|documents?|policy|copy)"
    r"|(?:disclos|releas)\w*\s+in\s+full|full\s+disclosure|information\s+is\s+held"
    r"|\b(?:i|we)\s+(?:now\s+|have\s+|can\s+|will\s+)?(?:disclose|release)d?\b"
    r"|(?:we|the\s+force|i)\s+(?:can|am\s+able\s+to)\s+(?:confirm|advise|provide)\s+(?:that\s+)?"
    r"(?:the\s+following|the\s+figures?|the\s+number|there\s+(?:were|was|are|is|have\s+been))"
)
# A review that sets an exemption aside, or a letter releasing everything.
FULL_WORDS = (
    r"(?:disclos|releas|provid)\w*\s+(?:(?:all\s+|the\s+)?(?:of\s+the\s+)?(?:requested\s+)?"
    r"information\s+)?in\s+full|(?:decision|response)\s+(?:is|was|has\s+been)\s+overturned"
    r"|(?:was|were|had\s+been)\s+(?:not\s+correctly|incorrectly|wrongly)\s+applied"
)
REFUSE_WORDS = (
    r"(?:decided|decision)\s+(?:not\s+to\s+disclose|to\s+withhold|to\s+refuse)"
    r"|(?:is|are)\s+(?:being\s+)?withheld|exempt\s+(?:from\s+disclosure\s+)?by\s+virtue\s+of"
    r"|(?:is|are)\s+exempt\s+(?:from\s+disclosure|under|pursuant)"
    r"|refusal\s+notice|(?:unable|not\s+able)\s+to\s+(?:disclose|provide|release)"
)
NOT_HELD_WORDS = (
    r"(?:is|are|was)\s+not\s+held|(?:does|do|did)\s+not\s+hold|holds?\s+no\s+(?:recorded\s+)?"
    r"(?:information|data|record)|no\s+(?:recorded\s+)?(?:information|data|records?)\s+(?:is|are|"
    r"was|were|has\s+been|have\s+been)?\s*(?:held|located|found|retained)"
    r"|information\s+(?:is|was)\s+not\s+(?:recorded|located|available)"
    r"|notice\s+that\s+(?:the\s+)?information\s+is\s+not\s+held"
)
ADVICE_WORDS = (
    r"not\s+(?:a\s+)?valid\s+(?:freedom\s+of\s+information\s+)?request"
    r"|(?:does|do)\s+not\s+(?:constitute|amount\s+to)\s+a\s+(?:valid\s+)?request"
    r"|not\s+a\s+request\s+for\s+(?:recorded\s+)?information"
    r"|(?:falls?|is)\s+outside\s+(?:the\s+scope\s+of\s+)?the\s+(?:Act|FOIA|FOISA)"
    r"|(?:should|would)\s+(?:be\s+)?(?:re)?direct(?:ed)?\s+(?:your\s+request\s+)?to"
    r"|business\s+as\s+usual"
)


def _gives_something(answers: tuple[str, ...]) -> bool:
    """Whether an answer gives information: one that neither withholds nor says not held."""
    return any(
        not _has(NOT_HELD_WORDS, answer)
        and not _has(REFUSE_WORDS, answer)
        and not mentions(answer, law="FOIA")
        for answer in answers
    )


def _decide_outcome(
    text: str, citations: list[Found], answers: tuple[str, ...]
) -> tuple[Outcome | None, float]:
    ids = {c.exemption for c in citations}
    if ids & {"foia-s12", "foisa-s12"} or _has(COST_WORDS, text):
        return Outcome.COST_LIMIT, 0.9
    if ids & {"foia-s14", "foisa-s14"} or _has(VEXATIOUS_WORDS, text):
        return Outcome.VEXATIOUS_OR_REPEATED, 0.85
    partial = _has(PARTIAL_WORDS, text)
    withholding = [
        c for c in citations if c.exemption not in ("foisa-s17", "foisa-s18", "eir-r12-4-a")
    ]
    if any(c.ncnd for c in citations) or _has(NCND_WORDS, text):
        if partial:
            return Outcome.PARTIALLY_DISCLOSED, 0.7
        return Outcome.NEITHER_CONFIRM_NOR_DENY, 0.9
    disclosed = _has(DISCLOSE_WORDS, text) or _gives_something(answers)
    if _has(FULL_WORDS, text) and not partial:
        return Outcome.DISCLOSED_IN_FULL, 0.75
    if withholding:
        if partial or disclosed:
            return Outcome.PARTIALLY_DISCLOSED, 0.8
        return Outcome.REFUSED, 0.75 if _has(REFUSE_WORDS, text) else 0.6
    if _has(ADVICE_WORDS, text) and not disclosed:
        return Outcome.ADVICE_ONLY, 0.6
    if ids & {"foisa-s17", "eir-r12-4-a"} or _has(NOT_HELD_WORDS, text):
        return (Outcome.DISCLOSED_IN_FULL, 0.55) if disclosed else (Outcome.NOT_HELD, 0.85)
    if disclosed:
        return Outcome.DISCLOSED_IN_FULL, 0.8
    if len(text) > 80:
        # Nothing withheld, refused or not held: what remains of an answer is a disclosure.
        return Outcome.DISCLOSED_IN_FULL, 0.4
    return None, 0.0


# Headings of the public interest test and harm reasoning, as police letters word them.
_FOR_HEAD = re.compile(
    r"^(?:the\s+)?public\s+interest\s+(?:in\s+favour\s+of|favouring|for)\s+(?:disclos|releas|"
    r"confirm)|"
    r"^(?:public\s+interest\s+)?(?:factors|considerations|arguments|reasons)\s+(?:in\s+)?"
    r"(?:favour(?:ing)?|for|supporting|in\s+support\s+of)\b|^(?:public\s+interest\s+)?"
    r"(?:factors|considerations)\s+(?:which\s+)?favour",
    re.I,
)
_AGAINST_HEAD = re.compile(
    r"^(?:the\s+)?public\s+interest\s+(?:in\s+favour\s+of|favouring|against)\s+(?:non[-\s]?"
    r"disclos|maintain|withhold|neither|disclos|confirm)|"
    r"^(?:public\s+interest\s+)?(?:factors|considerations|arguments|reasons)\s+against\b"
    r"|^(?:public\s+interest\s+)?(?:factors|considerations)\s+(?:which\s+)?(?:favour(?:ing)?\s+)?"
    r"(?:non[-\s]?disclosure|withholding|maintaining\s+the\s+exemption)",
    re.I,
)
_BALANCE_HEAD = re.compile(
    r"^(?:the\s+)?(?:balanc(?:e|ing)(?:\s+(?:test|of\s+the\s+public\s+interest))?|conclusion|"
    r"public\s+interest\s+(?:balance|decision|conclusion))\s*[:.]?$",
    re.I,
)
_HARM_HEAD = re.compile(
    r"^(?:overall\s+)?(?:evidence\s+of\s+)?(?:prejudice|harm)(?:\s*\((?:prejudice|harm)\))?"
    r"(?:\s+test)?\b|^(?:overall\s+)?(?:prejudice|harm)\s+(?:\((?:harm|prejudice)\)\s+)?test",
    re.I,
)
_SECTION_HEAD = re.compile(
    r"^(?:section|s\.?|regulation)\s?([0-9]{1,2}[A-Z]?)(?:\s?\([^)]*\))*\s*(?:[-\u2013:]?\s*[A-Z][\w\s]{0,40})?$",
    re.I,
)
# Where the reasoning stops: the letter's closing paragraphs.
_REASONING_END = re.compile(
    r"^(?:none\s+of\s+the\s+above|should\s+you|if\s+you\s+(?:are|have|require|remain|would)|"
    r"yours\s|kind\s+regards|regards|complaint\s+rights|your\s+right|right\s+to\s+(?:request|"
    r"complain|review)|this\s+(?:response|letter)\s+(?:serves|will\s+be)|please\s+note|"
    r"in\s+(?:accordance|line)\s+with\s+the\s+act|thank\s+you|decision$|disclosure$|"
    r"reason\s+for\s+decision)",
    re.I,
)


def _sections_named(line: str, law: str) -> set[str]:
    return {m.exemption.id for m in mentions(line, law=law)}


def reasoning(lines: list[str], law: str, citations: list[Found]) -> None:
    """Fill each qualified citation's public interest test (for, against, balance) and each
    prejudice citation's harm from the headed paragraphs of the letter."""
    by_id = {c.exemption: c for c in citations}
    known = catalogue()
    qualified = [c for c in citations if known[c.exemption].kind in ("qualified", "mixed")]
    prejudice = [c for c in citations if known[c.exemption].test in ("prejudice", "mixed")]
    collected: dict[tuple[str, str], list[str]] = {}
    current: tuple[str, set[str]] | None = None
    focus: set[str] = set()
    for line in lines:
        stripped = line.strip()
        if not stripped:
            continue
        named = _sections_named(stripped, law) & by_id.keys()
        heading = len(stripped) < 140
        if heading and _SECTION_HEAD.match(stripped) and named:
            focus = named
            continue
        if heading and _REASONING_END.match(stripped):
            current = None
            continue
        kind = None
        if heading and _AGAINST_HEAD.match(stripped):
            kind = "against"
        elif heading and _FOR_HEAD.match(stripped):
            kind = "for"
        elif heading and _BALANCE_HEAD.match(stripped):
            kind = "balance"
        elif heading and _HARM_HEAD.match(stripped):
            kind = "harm"
        if kind is not None:
            targets = named or focus
            if kind in ("balance", "harm") and not named:
                targets = set()
            current = (kind, targets)
            remainder = re.split(r"[:\u2013-]\s", stripped, maxsplit=1)
            if len(remainder) == 2 and len(remainder[1]) > 60:
                _collect(collected, current, remainder[1])
            continue
        if heading and stripped.lower().startswith("public interest test"):
            current = None
            focus = named or focus
            continue
        if current is not None:
            _collect(collected, current, stripped)
    for (kind, exemption_id), paragraphs in collected.items():
        if kind == "harm":
            harmed = prejudice if exemption_id == "*" else [by_id[exemption_id]]
            for citation in harmed:
                if citation.harm is None:
                    citation.harm = " ".join(paragraphs)
            continue
        weighed = qualified if exemption_id == "*" else [by_id[exemption_id]]
        for citation in weighed:
            if citation not in qualified:
                continue
            test = citation.public_interest or {"for": [], "against": [], "balance": None}
            if kind == "balance":
                test["balance"] = test["balance"] or " ".join(paragraphs)
            elif not test[kind]:
                test[kind] = paragraphs
            citation.public_interest = test


def _collect(
    collected: dict[tuple[str, str], list[str]], current: tuple[str, set[str]], text: str
) -> None:
    kind, targets = current
    text = re.sub(r"^[•·\-\u2013*]\s*", "", text)
    if not text:
        return
    for target in sorted(targets) or ["*"]:
        paragraphs = collected.setdefault((kind, target), [])
        if (
            kind in ("balance", "harm")
            or not paragraphs
            or text[:1].isupper()
            or text[:1].isdigit()
        ):
            paragraphs.append(text[:10_000])
        else:
            paragraphs[-1] = f"{paragraphs[-1]} {text}"[:10_000]


def decide(
    response_text: str,
    reasoning_lines: list[str],
    *,
    law: str,
    answers: tuple[str, ...] = (),
) -> Decision:
    """Citations and outcome of one response's text."""
    text = re.sub(r"\s+", " ", response_text)
    citations = _merge(mentions(text, law=law))
    warnings: list[str] = []
    if law == "FOISA" and _has(r"\bregulations?\s+1[0-3]\b", text):
        warnings.append(
            "citations: the letter cites environmental regulations, which foilog does not record "
            "for Police Scotland (FOISA only); add them by hand if needed"
        )
    ncnd_letter = _has(NCND_WORDS, text)
    if (law == "FOISA" and (ncnd_letter or any(c.exemption == "foisa-s18" for c in citations))) or (
        ncnd_letter and not any(c.ncnd for c in citations)
    ):
        for citation in citations:
            exemption = catalogue()[citation.exemption]
            if exemption.ncnd_subsections and exemption.kind != "procedural":
                citation.ncnd = True
    outcome, confidence = _decide_outcome(text, citations, answers)
    if outcome is Outcome.COST_LIMIT:
        # A cost refusal rests on s12; exemptions named beside it are discussed, not relied on.
        citations = [c for c in citations if c.exemption in ("foia-s12", "foisa-s12")]
        for citation in citations:
            citation.ncnd = False
    if outcome is Outcome.VEXATIOUS_OR_REPEATED:
        citations = [c for c in citations if c.exemption in ("foia-s14", "foisa-s14")]
    if outcome in (Outcome.NOT_HELD, Outcome.DISCLOSED_IN_FULL, Outcome.ADVICE_ONLY):
        not_held = ("foisa-s17", "eir-r12-4-a")
        dropped = [c for c in citations if c.exemption not in not_held]
        if dropped and outcome is not Outcome.NOT_HELD:
            warnings.append(
                "citations: sections "
                + ", ".join(c.provision for c in dropped)
                + f" are named but the letter reads as {outcome.value}; check the outcome"
            )
        citations = (
            [c for c in citations if c.exemption in not_held]
            if (outcome is Outcome.NOT_HELD)
            else citations
        )
    if outcome is Outcome.DISCLOSED_IN_FULL:
        citations = []
    reasoning(reasoning_lines, law, citations)
    return Decision(outcome, confidence, citations, warnings)

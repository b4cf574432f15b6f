"""A response letter's text to a draft entry: where each part of the letter is, and what it says.

The letter is read as lines. Landmarks are found first (the salutation, where the request is
quoted, where the answer starts, the closing), then each field is read from its part of the
letter, so a date in an answer is never taken for the letter's date and a section of another Act
quoted in the request is never taken for a citation."""

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import unquote

from app.letters import dates
from app.letters.decisions import Found, decide
from app.letters.redaction import Redactor
from app.models import ResponseKind

# C0 controls other than tab, newline and carriage return; form feeds (page breaks) and vertical
# tabs become line breaks.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


# What a PDF repeats on every page: page numbers and protective markings.
_FURNITURE = re.compile(
    r"^(?:page\s+\d+(?:\s+of\s+\d+)?|\d+\s*(?:/|of)\s*\d+|-\s*\d+\s*-|official(?:\s*[-:]\s*sensitive)?"
    r"|not\s+protectively\s+marked|protect|restricted|unclassified)$",
    re.I,
)


@dataclass(slots=True)
class Draft:
    entry: dict[str, Any]
    confidence: dict[str, float]
    warnings: list[str] = field(default_factory=list)


def clean(text: str) -> tuple[str, int]:
    """Line breaks made uniform and control characters removed; also how many were removed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n").replace("\v", "\n")
    removed = len(_CONTROL.findall(text))
    text = _CONTROL.sub("", text)
    text = text.replace("\u00a0", " ").replace("\u200b", "").replace("\ufeff", "")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]
    return "\n".join("" if _FURNITURE.match(line) else line for line in lines), removed


# --- the reference -----------------------------------------------------------------------

_REF_LABEL = re.compile(
    r"(?P<your>your\s+|ico\s+|their\s+)?"
    r"(?:(?:our|foi|foia|foisa|eir|freedom\s+of\s+information(?:\s+act)?|information)\s+)?"
    r"(?:(?:request|application|case)\s+)?"
    r"(?:ref(?:erence)?\.?|(?:request|case|application)\s+(?:number|no\.?|id)|"
    r"(?<=foi\s)(?:number|no\.?)|(?<=eir\s)(?:number|no\.?)|"
    r"(?<=information\s)request(?=\s+[0-9])|(?<=foi\s)request(?=\s+[0-9]))"
    r"(?:\s*(?:no\.?|number|num\.?))?\s*(?:[:\-\u2013]\s*|\s+)",
    re.I,
)
_REF_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9./\-_]*[A-Za-z0-9]|[0-9]")
_REF_PREFIX = re.compile(r"[A-Z][A-Z/.\-]{0,9}")
_REF_SHAPES = (
    re.compile(r"\b\d{2}\.FOI\.\d{2}\.\d{4,}\b"),
    re.compile(r"\bFOI\s?\d{4}/\d{3,}\b"),
    re.compile(r"\b[A-Z]{2,4}-FOI-\d{4}-\d{3,}\b"),
    re.compile(r"\b(?:FOI|FOIA|EIR)[\-/ ]\d{3,}[\-/]\d{2,4}\b"),
    re.compile(r"\b[A-Z]{2,3}/[A-Z]{2,3}/\d{3,}/\d{2}\b"),
)


def _reference_after(line: str, start: int) -> str | None:
    """The reference printed from `start`: at most two capital prefixes (`DC/FOI 782/17`,
    `FOI 1782531/23`), then one token holding a digit."""
    position = start
    parts: list[str] = []
    for _ in range(3):
        match = _REF_TOKEN.match(line, position)
        if match is None:
            return None
        token = match.group(0)
        parts.append(token)
        if any(ch.isdigit() for ch in token):
            value = " ".join(parts).rstrip(".,;:)")
            return value if sum(ch.isdigit() for ch in value) >= 2 else None
        if not _REF_PREFIX.fullmatch(token):
            return None
        position = match.end()
        if line[position : position + 1] != " ":
            return None
        position += 1
    return None


def find_reference(lines: list[str]) -> tuple[str | None, float]:
    for line in lines[:400]:
        for match in _REF_LABEL.finditer(line):
            if match["your"]:
                continue
            value = _reference_after(line, match.end())
            if value is not None:
                labelled_ours = match.group(0).lower().startswith("our")
                return value, 0.95 if labelled_ours else 0.9
    for line in lines[:400]:
        for shape in _REF_SHAPES:
            found = shape.search(line)
            if found is not None:
                return found.group(0), 0.6
    return None, 0.0


# --- dates -------------------------------------------------------------------------------

_DATE_LABEL = re.compile(
    r"^(?:date\s+(?:sent|responded|replied|answered|of\s+this\s+letter)|response\s+date|"
    r"date(?:d)?(?:\s+of\s+(?:response|reply|letter|decision|disclosure))?|sent)\s*[:\-\u2013]?\s*",
    re.I,
)
# "Our Ref: FOI2018/02892   Date: 26 June 2018": a header row that PDF text runs together.
_DATE_INSIDE = re.compile(r"(?<!received\s)(?<!request\s)\b(?:date|dated)\s*:\s*", re.I)
_RECEIVED_LABEL = re.compile(
    r"^(?:date\s+(?:request\s+)?received|received(?:\s+on|\s+date)?|date\s+of\s+request|"
    r"request\s+date|date\s+logged)"
    r"\s*[:\-\u2013]\s*",
    re.I,
)


def _whole_date(line: str) -> dates.Found | None:
    """A line that is only a date (as letters print their own date). The longest such line
    ("Wednesday, 26th September 2018") is short: a longer one is not searched for every date
    it holds."""
    if len(line) > 60:
        return None
    found = dates.find_dates(line)
    if len(found) != 1:
        return None
    rest = (line[: found[0].start] + line[found[0].end :]).strip(" ,.")
    return found[0] if not rest else None


def find_letter_date(lines: list[str], before: int) -> tuple[dates.Found | None, float, int | None]:
    """The letter's own date: a `Date:` line, or a line holding only a date, above the body.
    One that prints its year first; else one without (`26 June`), whose year `letter_year`
    gives."""
    for yearless in (False, True):
        for index, line in enumerate(lines[:before]):
            label = _DATE_LABEL.match(line)
            if label and not _RECEIVED_LABEL.match(line):
                found = dates.find_dates(line[label.end() :])
                if found and (yearless or found[0].on is not None) and found[0].start < 4:
                    return found[0], 0.95, index
        for index, line in enumerate(lines[:before]):
            inside = _DATE_INSIDE.search(line)
            if inside is not None:
                found = dates.find_dates(line[inside.end() :])
                if found and (yearless or found[0].on is not None) and found[0].start < 4:
                    return found[0], 0.9, index
        for index, line in enumerate(lines[:before]):
            whole = _whole_date(line)
            if whole is not None and (yearless or whole.on is not None):
                return whole, 0.9, index
    return None, 0.0, None


def letter_year(found: dates.Found, received: date | None, year_hint: int | None) -> date | None:
    """A letter dated without its year (`26 June`) in the year the letter gives otherwise: the
    received date's (the next year's when that puts the answer before the request), else the
    reference's."""
    year = received.year if received else year_hint
    if year is None:
        return None
    on = dates.with_year(found, None, year)
    if on is not None and received is not None and on < received:
        on = dates.with_year(found, None, year + 1)
    return on


_RECEIVED_NEAR = re.compile(
    r"receiv\w*|(?:your|the)\s+(?:original\s+)?(?:request|e-?mail|letter|application|"
    r"correspondence)(?:\s+for\s+information)?\s+(?:dated|of|sent\s+on|submitted\s+on)"
    r"|(?:on|dated)\s+\S+\s+\S+\s+(?:\d{4}\s+)?you\s+(?:asked|requested|wrote|made)"
    r"|you\s+(?:requested|submitted|made|sent)\s+on",
    re.I,
)
_RECEIVED_WORD = re.compile(r"receiv\w*|\blogged\b|\bregistered\b", re.I)
_REVIEW_WORDS = re.compile(r"review|appeal|complain", re.I)
_REVIEW_REQUEST = re.compile(
    r"request(?:ed)?\s+(?:for\s+)?(?:an?\s+)?(?:internal\s+)?review|requirement\s+for\s+review",
    re.I,
)


def find_received(
    text: str,
    letter_date: date | None,
    year_hint: int | None,
    *,
    review: bool,
    header: list[str],
) -> tuple[date | None, float]:
    """When the request was received: a labelled date, or the date a sentence about receiving
    (or the date of) the request gives. For a review, the original request's, not the review's."""
    for line in [*header, *text.split("\n")[:80]]:
        label = _RECEIVED_LABEL.match(line)
        if label:
            found = dates.find_dates(line[label.end() :])
            if found:
                on = dates.with_year(found[0], letter_date, year_hint)
                if on is not None:
                    return on, 0.95
    paragraphs = re.split(r"\n\s*\n", text)
    sentences = [
        sentence
        for paragraph in paragraphs
        for sentence in re.split(r"(?<=[.!?])\s+", re.sub(r"\s+", " ", paragraph))
    ]
    best: tuple[date | None, float] = (None, 0.0)
    for sentence in sentences[:300]:
        near = _RECEIVED_WORD.search(sentence) or _RECEIVED_NEAR.search(sentence)
        if near is None:
            continue
        if review and _REVIEW_WORDS.search(sentence):
            about_request = _REVIEW_REQUEST.sub("", sentence)
            if not re.search(r"request|original", about_request, re.I):
                continue
        found = dates.find_dates(sentence)
        if not found:
            continue
        anchor = near.start()
        original = re.search(r"\boriginal\b", sentence, re.I)
        if review and original is not None:
            anchor = original.start()
        # The date that follows the anchor ("received by the force on 31 May"), else the nearest.
        after = [f for f in found if 0 <= f.start - anchor <= 100]
        closest = after[0] if after else min(found, key=lambda f: abs(f.start - anchor))
        on = dates.with_year(closest, letter_date, year_hint)
        if on is None or (letter_date is not None and on > letter_date):
            continue
        confidence = 0.9 if _RECEIVED_WORD.fullmatch(near.group(0)) else 0.75
        if confidence > best[1]:
            best = (on, confidence)
        if confidence >= 0.9:
            break
    return best


# --- landmarks ---------------------------------------------------------------------------

_SALUTATION = re.compile(r"^dear\s+(?P<who>[^,\n]{1,80}?)\s*,?$", re.I)
_ANONYMOUS = re.compile(
    r"^(?:sir|madam|sir\s*(?:/|or)\s*madam|sirs|applicant|requester|requestor|enquirer|"
    r"colleague|customer|all|team|foi\s+team|information\s+rights|sir\s*/\s*madam)$",
    re.I,
)
_CLOSING = re.compile(
    r"^(?:yours\s+(?:sincerely|faithfully|truly)|kind\s+regards|best\s+regards|regards|"
    r"with\s+regards|many\s+thanks|best\s+wishes|yours)\s*,?$",
    re.I,
)
_REQUEST_START = re.compile(
    r"(?:you\s+(?:seek|sought|asked|requested|wrote|have\s+asked|have\s+requested|made\s+a\s+request)"
    r"(?=\s*(?::|$|for\b|the\s+following|that\b|whether\b|about\b|access\b|as\s+follows|"
    r"information\s+(?:about|on|regarding|relating)))"
    r"|your\s+(?:original\s+)?request\s+(?:was\s+|is\s+)?(?:as\s+follows|reads?|read|stated|states|"
    r"asked|for\s+the\s+following|:)"
    r"|(?:in\s+which|where)\s+you\s+(?:asked|requested|sought)"
    r"|(?:the|following)\s+information\s*(?:was\s+requested)?\s*:"
    r"|request(?:ed)?\s+the\s+following"
    r"|^(?:your\s+)?(?:original\s+)?(?:request|information\s+requested|request\s+details|"
    r"details\s+of\s+(?:your\s+)?request|you\s+asked)\s*:?\s*$"
    r"|^(?:your\s+)?request\s*:\s*\S"
    r"|(?:request|questions?)\s+(?:is|are)\s+(?:replicated|reproduced|set\s+out|shown|repeated|"
    r"copied)\b)",
    re.I,
)
_RESPONSE_START = re.compile(
    r"^(?:(?:our|my|the|force)\s+)?(?:response|reply|answer|decision|outcome|disclosure|"
    r"findings|result|review\s+(?:findings|decision|outcome))s?(?:\s+to\s+(?:your\s+)?"
    r"(?:request|questions?))?\s*[:.]?\s*$"
    r"|^(?:response|answer|reply)\s*:\s*\S"
    r"|^I\s+(?:am\s+(?:now\s+)?(?:able|in\s+a\s+position|required|writing)|have\s+(?:today\s+)?"
    r"(?:decided|now\s+(?:completed|considered|reviewed)|completed|considered|reviewed|conducted|"
    r"carried\s+out)|can\s+(?:confirm|advise|now)|write\s+(?:to|in)\s+(?:respon|reply|inform|"
    r"advise|confirm))"
    r"|^(?:We|The\s+\w+(?:\s+\w+)?)\s+(?:can\s+(?:confirm|advise)|(?:has|have)\s+(?:now\s+)?"
    r"(?:completed|considered|conducted|carried\s+out|searched|located))"
    r"|^(?:Having|After|Following)\s+(?:located|considered|searched|conduct|carr|review|made|"
    r"undertak|complet|a\s+search|search)"
    r"|^(?:Please\s+(?:find|see)\s+(?:below|attached|enclosed))"
    r"|^(?:In\s+(?:response|answer|reply)\s+to\s+(?:your|the)\s+(?:request|questions?))"
    r"|^(?:Searches?|A\s+search|Enquiries)\s+(?:of|has|have|were|was)"
    r"|^(?:Response\s+to\s+your\s+request)",
    re.I,
)
_REVIEW_LETTER = re.compile(
    r"(?:completed|conducted|carried\s+out|undertaken|concluded)\s+(?:an?|the|my|our)\s+"
    r"(?:internal\s+)?review|internal\s+review\s+(?:outcome|decision|response|result|findings|"
    r"of\s+(?:your|the)|has\s+(?:now\s+)?been)|(?:your|the)\s+(?:request|application)\s+for\s+"
    r"(?:an\s+)?(?:internal\s+)?review|(?:requested|asked\s+for|request)\s+an\s+internal\s+review"
    r"|review\s+panel|^internal\s+review\b|requirement\s+for\s+review|reviewing\s+officer"
    r"|(?:original|initial)\s+(?:decision|response)\s+(?:is|was|has\s+been)\s+(?:upheld|"
    r"overturned|varied|partially\s+upheld)",
    re.I | re.M,
)
_RIGHTS = re.compile(
    r"if\s+you\s+(?:are|remain|feel)|you\s+(?:may|can|have\s+the\s+right)|right\s+to\s+request"
    r"|dissatisfied|complain|within\s+(?:40|two|2|20)|section\s+20|section\s+50",
    re.I,
)
_CONTACT = re.compile(
    r"@|\b(?:tel|telephone|phone|email|e-mail|fax|website|www\.|http|mobile|ext)\b|\d{4,}\s?\d{3}",
    re.I,
)
_ROLE_WORDS = re.compile(
    r"\b(?:officer|manager|unit|team|rights|disclosure|department|dept|advis[eo]r|lead|"
    r"decision\s+maker|head|analyst|assistant|co-?ordinator|section|branch|information|freedom|"
    r"foi|compliance|records|legal|services|administrator|practitioner|support|reviewer|"
    r"supervisor|director|inspector|chief|superintendent|governance|data\s+protection|"
    r"management|office|bureau|hub|centre|center|secretariat|caseworker|case\s+officer)\b",
    re.I,
)
_NAME = re.compile(
    r"^(?:(?:Mr|Mrs|Ms|Miss|Dr|DC|DS|PC|DI|Insp|Sgt|Supt)\.?\s+)?"
    r"(?:[A-Z]\.?(?=\s)|[A-Z][a-zA-Z'\u2019\-]+)"
    r"(?:\s+(?:[A-Z]\.?|[A-Z][a-zA-Z'\u2019\-]+|de|van|von|le|la)){0,4}$"
)
_POSTCODE = re.compile(r"\b[A-Z]{1,2}[0-9][A-Z0-9]?\s?[0-9][A-Z]{2}\b")
# Whole words: the requester may live in Telford or Forcett.
_OFFICIAL = re.compile(
    r"\b(?:police|constabulary|headquarters|hq|force|p\.?o\.?\s+box|information\s+(?:rights|"
    r"management|compliance)|freedom\s+of\s+information|services?|units?|disclosure|"
    r"tel|telephone|e-?mail|foi|pnn|gov\.uk|department|office|commissioner)\b",
    re.I,
)
# Possessive and anchored at the start of a run: a long run of word characters or dots is
# scanned once, not once from each of its characters.
_EMAIL = re.compile(r"(?<![\w.+'-])[\w.+'-]++@[\w-]++(?:\.[\w-]++)++")
# An email spelled out against harvesters: `zeb.q [at] example [dot] org`, `zeb dot q at
# example dot org` (a bare "at" only with the dots spelled, or "look at it.com" would be one),
# ending in a name of letters ("at 10 dot 30" is a time). Parts are bounded as email parts
# are, so each place is tried in bounded time.
_SPELLED_DOT = r"\s*[\[({<]\s*dot\s*[\])}>]\s*|\s+dot\s+"
_DOT = rf"\.|{_SPELLED_DOT}"
_LABEL = r"[\w-]{1,63}"
_TOP = r"[^\W\d_]{2,24}(?![\w-])"
_SPELLED_EMAIL = re.compile(
    rf"(?<![\w.+'-])(?P<local>[\w+'-]{{1,64}}(?:(?:{_DOT})[\w+'-]{{1,64}}){{0,4}})"
    rf"(?:\s*[\[({{<]\s*at\s*[\])}}>]\s*(?P<domain>(?:{_LABEL}(?:{_DOT})){{1,5}}{_TOP})"
    rf"|\s+at\s+(?P<spelled>(?:{_LABEL}(?:{_SPELLED_DOT})){{1,5}}{_TOP}))",
    re.I,
)
_OFFICIAL_EMAIL = re.compile(r"police\.uk$|pnn\.|gov\.uk$|gov\.scot$|ico\.org\.uk$|nhs\.", re.I)


def _closing_index(lines: list[str], start: int) -> int | None:
    found = None
    for index in range(start, len(lines)):
        if _CLOSING.match(lines[index]):
            found = index
    return found


@dataclass(slots=True)
class Requester:
    """What the letter gives away of its requester: names, postal addresses (one a block),
    emails."""

    names: list[str] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    emails: set[str] = field(default_factory=set)

    def redactor(self) -> Redactor:
        return Redactor(names=self.names, addresses=self.addresses, emails=self.emails)


def _surnames_after(given: str, lines: list[str], known: list[str]) -> list[str]:
    """For a salutation by given name alone ("Dear Zebedee"): the full name wherever the letter
    writes one ("Zebedee Quartermaine", "ZEBEDEE QUARTERMAINE"), and the surname alone where a
    title stands before it too ("Mr Quartermaine"); a capitalised word after the given name may
    be no surname."""
    text = "\n".join(lines)
    found: list[str] = []
    for surname in re.findall(rf"\b(?i:{re.escape(given)})\s+([A-Z][a-zA-Z'\u2019\-]{{2,}})", text):
        full = f"{given} {surname}"
        if full not in known and full not in found:
            found.append(full)
            titled = rf"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr)\.?\s+{re.escape(surname)}\b"
            if re.search(titled, text, re.I):
                found.append(surname)
    return found


_TITLES = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam", "dear"}
# Capitalised words that stand before a surname and are no given name.
_NOT_GIVEN = _TITLES | {"the", "your", "to", "from", "re", "regards", "for", "and", "of", "by"}


def _given_names_before(surname: str, lines: list[str], known: list[str]) -> list[str]:
    """For a salutation by title and surname ("Dear Mr Quartermaine"): the full name wherever
    the letter writes one ("I, Zebedee Quartermaine, ask"), whose given name the salutation
    does not give and would otherwise reach the draft."""
    text = "\n".join(lines)
    found: list[str] = []
    pattern = rf"\b([A-Z][a-zA-Z'\u2019\-]+)\s+(?={re.escape(surname)}\b)"
    for given in re.findall(pattern, text):
        full = f"{given} {surname}"
        if given.lower().rstrip(".") not in _NOT_GIVEN and full not in known + found:
            found.append(full)
    return found


def find_requester(lines: list[str], salutation: int | None) -> tuple[Requester, list[str]]:
    """The requester's name (from the salutation), postal address (a block with a postcode
    that is not the force's) and email, written plainly or spelled out, so that none reaches
    the draft; each is reported. The ways of writing a name are privacy's (see `redaction`)."""
    requester = Requester()
    warnings: list[str] = []
    if salutation is not None:
        match = _SALUTATION.match(lines[salutation])
        who = match["who"].strip() if match else ""
        if who and not _ANONYMOUS.match(who):
            requester.names.append(who)
            surname = who.split()[-1]
            if len(surname) > 2 and surname[0].isupper() and surname != who:
                requester.names.append(surname)  # "as Mr Smith asked", "Smith's request"
            if len(who.split()) == 1:
                requester.names += _surnames_after(who, lines, requester.names)
            elif who.split()[0].lower().rstrip(".") in _TITLES and surname != who:
                requester.names += _given_names_before(surname, lines, requester.names)
            warnings.append(
                f"requester: the letter names the requester ({lines[salutation]!r}); the name is "
                "left out of the draft"
            )
    header_end = salutation if salutation is not None else min(len(lines), 25)
    block: list[str] = []
    for line in [*lines[:header_end], ""]:
        if line:
            block.append(line)
            continue
        postal = any(_POSTCODE.search(b) for b in block) and len(block) <= 8
        if postal and not any(_OFFICIAL.search(b) for b in block):
            named = _NAME.match(block[0]) is not None
            if named and block[0] not in requester.names:
                requester.names.append(block[0])
            # Without the name line, so that a house name below it is the address's first line.
            requester.addresses.append("\n".join(block[1:] if named else block))
            warnings.append(
                "requester: the letter carries a postal address ("
                + ", ".join(block)
                + "); it is left out of the draft"
            )
        block = []
    for line in lines:
        line = unquote(line) if "%" in line else line  # "mailto:zeb.q%40example.org"
        found = [(m.group(), m.group().rsplit("@", 1)[1]) for m in _EMAIL.finditer(line)]
        for spelled in _SPELLED_EMAIL.finditer(line):
            local = re.sub(_SPELLED_DOT, ".", spelled["local"], flags=re.I)
            domain = re.sub(_SPELLED_DOT, ".", spelled["domain"] or spelled["spelled"], flags=re.I)
            found.append((f"{local}@{domain}", domain))
        for email, domain in found:
            if not _OFFICIAL_EMAIL.search(domain) and email not in requester.emails:
                requester.emails.add(email)
                warnings.append(
                    f"requester: the letter carries an email address ({email}); it is left out "
                    "of the draft"
                )
    return requester, warnings


# --- questions and answers ---------------------------------------------------------------

_ROMAN = r"(?:i{1,3}|iv|vi{0,3}|ix|x)"
_ITEM = re.compile(
    r"^\(?(?:(?:Q(?:uestion)?|Request|Point)\s*\.?\s*)?(?P<num>[1-9][0-9]?)(?:Q?(?P<letter>[a-z])"
    r"(?![a-z]))?(?:\s?\((?P<roman>" + _ROMAN + r")\))?"
    r"(?:\s*[.):\-\u2013\u2014]\s*|\s+-\s+|\s+(?=[A-Z(\"'\u2018\u201c]))(?P<text>\S.*)?$",
    re.I,
)
# "Request 1" or "Question 2" alone on its line, the question on the lines below.
_BARE_ITEM = re.compile(
    r"^(?:Q(?:uestion)?|Request|Point)\s*\.?\s*(?P<num>[1-9][0-9]?)(?P<letter>[a-z])?\s*[:.]?$",
    re.I,
)
# Lines that carry a quoted request on after its numbered items.
_REQUEST_GOES_ON = re.compile(
    r"^(?:if\s+(?:so|yes|not|the\s+answer)|for\s+(?:each|the|all)|in\s+(?:relation|respect)|"
    r"and\s|also\s|or\s|where\s|including\s|[\"'\u2018\u201c(])",
    re.I,
)
_NUMBER_THEN_MARK = re.compile(r"^\S*?[0-9][a-z]?(?:\([ivx]+\))?\s*[.):\-\u2013\u2014]", re.I)
_QUESTION_WORD_ITEM = re.compile(r"^(?:Q(?:uestion)?|Request|Point)\s*\.?\s*[1-9]", re.I)
_LETTER_ITEM = re.compile(r"^\(?(?P<letter>[a-z])[.)]\s+(?P<text>\S.*)$")
_ROMAN_ITEM = re.compile(r"^\(?(?P<roman>" + _ROMAN + r")[.)]\s+(?P<text>\S.*)$")
_ANSWER_MARK = re.compile(
    r"^(?:(?:response|answer|reply)s?\s+(?:to\s+)?(?:question|q)?\s*|a\s*(?=[0-9])|"
    r"(?:in\s+)?(?:answer|response|reply|relation|regard|respect)\s+to\s+(?:questions?|q)\s*|"
    r"(?:with\s+regard\s+to|regarding|turning\s+to|as\s+for)\s+(?:questions?|q)\s*|questions?\s+)"
    r"(?P<nums>[1-9][0-9]?[a-z]?(?:\s*(?:,|and|&|to|-|\u2013)\s*(?:q\s*)?[1-9][0-9]?[a-z]?)*)"
    r"\s*[.):,\-\u2013]?\s*(?P<text>.*)$",
    re.I,
)


@dataclass(slots=True)
class Item:
    number: str
    text: str


def _number_items(lines: list[str], *, loose: bool) -> list[Item]:
    """Numbered items (`1.`, `Q1 -`, `4a`, `(a)`, `5d(i)`) with the lines that continue them."""
    items: list[Item] = []
    main: str | None = None
    letter: str | None = None
    expected = 1
    for line in lines:
        if not line:
            continue
        bare = _BARE_ITEM.match(line)
        if bare is not None:
            main = bare["num"]
            letter = bare["letter"].lower() if bare["letter"] else None
            items.append(Item(main + (letter or ""), ""))
            expected = int(main) + 1
            continue
        match = _ITEM.match(line)
        if match is not None:
            number = int(match["num"])
            plain_space = not _NUMBER_THEN_MARK.match(line)
            worded = _QUESTION_WORD_ITEM.match(line) is not None
            if plain_space and not worded and (number != expected or not loose):
                match = None
        if match is not None:
            main = match["num"]
            letter = match["letter"].lower() if match["letter"] else None
            number_text = main + (letter or "")
            if match["roman"]:
                number_text += f"({match['roman'].lower()})"
            items.append(Item(number_text, (match["text"] or "").strip()))
            expected = int(main) + 1
            continue
        roman = _ROMAN_ITEM.match(line)
        # "i." after "h." is the ninth letter, not a roman one.
        if roman is not None and items and not (roman["roman"] == "i" and letter == "h"):
            base = (main or "") + (letter or "")
            items.append(Item(f"{base}({roman['roman']})", roman["text"]))
            continue
        lettered = _LETTER_ITEM.match(line)
        if lettered is not None:
            letter = lettered["letter"]
            items.append(Item((main or "") + letter, lettered["text"]))
            continue
        if items:
            items[-1].text = f"{items[-1].text} {line}".strip()
    return items


def _unique(items: list[Item]) -> tuple[list[Item], list[str]]:
    seen: set[str] = set()
    kept: list[Item] = []
    repeated: list[str] = []
    for item in items:
        if item.number in seen:
            repeated.append(item.number)
            continue
        seen.add(item.number)
        kept.append(item)
    return kept, repeated


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _similar(line: str, asked: set[str]) -> bool:
    """Whether `line` restates (part of) the question of words `asked` rather than answering
    it. The question's words are taken once, not once a line: a question can run on for
    thousands of lines of a letter whose numbers stop being read (`100.`)."""
    words = _words(line)
    if not words or not asked:
        return False
    if any(word.isdigit() and word not in asked for word in words):
        return False  # a figure the question does not hold: an answer
    return sum(word in asked for word in words) / len(words) >= 0.8


def _answer_numbers(line: str, known: set[str]) -> tuple[list[str], str] | None:
    match = _ANSWER_MARK.match(line)
    if match is not None:
        numbers: list[str] = []
        parts = re.split(r"\s*(?:,|and|&)\s*", match["nums"], flags=re.I)
        for part in parts:
            span = re.match(r"(?:q\s*)?([0-9]+)\s*(?:to|-|\u2013)\s*(?:q\s*)?([0-9]+)$", part, re.I)
            if span:
                low, high = int(span[1]), int(span[2])
                if high - low <= 50:
                    numbers += [str(n) for n in range(low, high + 1)]
            else:
                numbers.append(re.sub(r"^q\s*", "", part.strip(), flags=re.I).lower())
        numbers = [n for n in numbers if n in known]
        if numbers:
            return numbers, match["text"]
    item = _ITEM.match(line)
    if item is not None:
        number = item["num"] + (item["letter"].lower() if item["letter"] else "")
        if item["roman"]:
            number += f"({item['roman'].lower()})"
        if number in known and not re.match(r"^\d+\s+[a-z]", line):
            return [number], (item["text"] or "")
    return None


_ANSWER_END = re.compile(
    r"^(?:public\s+interest|balance|harm|overall\s+harm|prejudice|reason(?:s)?\s+for|"
    r"(?:section|regulation)\s+\d+\S*\s*[-\u2013:]?\s*\w*\s*$|factors|complaint|your\s+right|"
    r"right\s+of|if\s+you\s+are|decision$|exemptions?\s*(?:applied)?\s*:?$)",
    re.I,
)


def find_answers(
    lines: list[str], questions: dict[str, str]
) -> tuple[list[dict[str, Any]], set[int]]:
    """Answers placed under the question numbers they answer, and the lines they take."""
    known = set(questions)
    asked = {number: set(_words(text)) for number, text in questions.items()}
    answers: list[dict[str, Any]] = []
    used: set[int] = set()
    pending: list[str] = []
    body: list[str] = []
    taken: list[int] = []

    def flush() -> None:
        nonlocal pending, body, taken
        text = " ".join(body).strip()
        if pending and text:
            answers.append({"questions": list(dict.fromkeys(pending)), "text": text[:200_000]})
            used.update(taken)
            pending, body, taken = [], [], []

    for index, line in enumerate(lines):
        if not line:
            continue
        marked = _answer_numbers(line, known) if known else None
        if marked is not None:
            numbers, rest = marked
            if body:
                flush()
            if not body:
                pending += numbers
                taken.append(index)
                if rest and not _similar(rest, asked.get(numbers[0], set())):
                    body.append(rest)
                continue
        if pending and _ANSWER_END.match(line):
            flush()
            pending, body, taken = [], [], []
            continue
        if pending:
            # A restated question runs on over several lines before its answer starts.
            if not body and _similar(line, asked.get(pending[-1], set())):
                taken.append(index)
                continue
            body.append(line)
            taken.append(index)
    flush()
    return answers, used


# --- signatory ---------------------------------------------------------------------------


def find_signatory(
    lines: list[str], closing: int | None, force_name: str
) -> tuple[dict[str, str | None] | None, float]:
    if closing is None:
        return None, 0.0
    following = [line for line in lines[closing + 1 : closing + 8] if line]
    following = [
        line
        for line in following
        if not re.match(r"^(?:pp\.?|p\.p\.|\(signed\)|signed:?)$", line, re.I)
    ]
    name: str | None = None
    role: str | None = None
    for line in following[:4]:
        if _CONTACT.search(line) or _POSTCODE.search(line):
            break
        if line.lower() == force_name.lower() or _RIGHTS.search(line):
            break
        if name is None and role is None and _NAME.match(line) and not _ROLE_WORDS.search(line):
            name = line.rstrip(".,")
            continue
        if role is None and len(line) <= 80 and _ROLE_WORDS.search(line):
            role = line.rstrip(".,")
            break
        break
    if name is None and role is None:
        return None, 0.0
    return {"name": name, "role": role}, 0.85 if name and role else 0.6


# --- the title ---------------------------------------------------------------------------

_SUBJECT = re.compile(
    r"^(?:re|subject|title|request\s+title|topic)\s*[:\-\u2013]\s*(?P<title>.+)$"
    r"|^(?:freedom\s+of\s+information|foi|foia|foisa|eir)(?:\s+act)?(?:\s+(?:request|application|"
    r"disclosure))?(?:\s+(?:ref(?:erence)?\.?|no\.?)?\s*[:\-\u2013]?\s*[A-Z0-9/.\-]*\d[A-Z0-9/.\-]*)?"
    r"\s*[-\u2013:]\s*(?P<title2>[A-Za-z].+)$",
    re.I,
)


def find_title(lines: list[str], reference: str | None) -> str | None:
    for line in lines[:60]:
        match = _SUBJECT.match(line)
        if match is None:
            continue
        title = (match["title"] or match["title2"] or "").strip()
        if reference:
            title = title.replace(reference, "")
        title = re.sub(
            r"^(?:freedom\s+of\s+information(?:\s+act)?(?:\s+2000)?\s*(?:request|application)?|"
            r"foi\s+request|request\s+for\s+information|internal\s+review)\s*(?:[-\u2013:]|ref\S*)?\s*",
            "",
            title,
            flags=re.I,
        )
        title = re.sub(
            r"^(?:ref(?:erence)?\.?\s*(?:no\.?)?\s*:?\s*\S*\d\S*\s*[-\u2013:]?\s*)",
            "",
            title,
            flags=re.I,
        )
        title = title.strip(" -\u2013:")
        if len(title) >= 4 and any(ch.isalpha() for ch in title) and not _REF_LABEL.match(title):
            return title[:200]
    return None


def _shorten(text: str, limit: int = 90) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) <= limit:
        return text.rstrip("?.:;, ")
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip("?.:;, ") + "…"


# --- the whole letter --------------------------------------------------------------------


def _find_first(lines: list[str], pattern: re.Pattern[str], start: int, end: int) -> int | None:
    for index in range(start, end):
        if lines[index] and pattern.search(lines[index]):
            return index
    return None


def _request_bounds(
    lines: list[str], body_start: int, body_end: int
) -> tuple[int | None, int | None, str | None]:
    """Where the quoted request starts and ends, and text on the introducing line itself."""
    start = _find_first(lines, _REQUEST_START, body_start, body_end)
    if start is None:
        return None, None, None
    intro = lines[start]
    inline: str | None = None
    colon = re.search(r":\s*(\S.*)$", intro)
    if colon and _REQUEST_START.search(intro[: colon.start() + 1]):
        inline = colon.group(1)
    first = start + 1
    seen_item = False
    # "You asked for all correspondence about ...": the introducing line holds the request.
    seen_text = inline is not None or not intro.endswith(":")
    for index in range(first, body_end):
        line = lines[index]
        if not line:
            continue
        if _ITEM.match(line) or _LETTER_ITEM.match(line) or _BARE_ITEM.match(line):
            seen_item = True
            continue
        if _RESPONSE_START.search(line):
            return start, index, inline
        previous = next((lines[i] for i in range(index - 1, start - 1, -1) if lines[i]), "")
        # A new paragraph: after a blank line (text) or a finished sentence (PDFs keep no blank
        # lines), starting with a capital; unless numbered items follow it closely.
        new_paragraph = (
            lines[index - 1] == "" or previous.endswith((".", "?", "!", ")", '"'))
        ) and (not previous.endswith(":") and line[:1].isupper())
        if new_paragraph and (seen_item or seen_text) and not _REQUEST_GOES_ON.match(line):
            ahead = lines[index + 1 : index + 12]
            if seen_item or not any(_ITEM.match(a) or _LETTER_ITEM.match(a) for a in ahead):
                return start, index, inline
        seen_text = True
    return start, body_end, inline


# What of a letter is read: about 300 pages, five times what a draft's response text holds.
# Each field is found in time linear in the text read, at some microseconds a character; this
# keeps a letter of any size (FOILOG_MAX_LETTER_BYTES) to seconds.
MAX_CHARS = 1_000_000


def _first_part(text: str) -> str:
    """The text within MAX_CHARS, cut at white space so that no word (a name) is cut in two."""
    cut = max(text.rfind(space, 0, MAX_CHARS) for space in "\n\r\t ")
    return text[: cut if cut > 0 else MAX_CHARS]


# The Acts a letter answers under, by the law's name in the catalogue.
_ACTS = {
    "FOIA": re.compile(r"freedom\s+of\s+information\s+act\s+2000", re.I),
    "FOISA": re.compile(r"freedom\s+of\s+information\s*\(\s*scotland\s*\)\s*act|\bFOISA\b", re.I),
}


def _other_act(text: str, force: str, law: str) -> str | None:
    """A warning when the letter names only the other Act than its force's: a Scottish letter
    given as an English force's, or the reverse, has its citations read in the wrong law."""
    named = [act for act, pattern in _ACTS.items() if pattern.search(text)]
    if not named or law in named:
        return None
    return (
        f"law: the letter answers under {' and '.join(named)}, but {force} answers under "
        f"{law}, in whose catalogue its citations were read: check the force"
    )


def parse(text: str, *, force: str, force_name: str, law: str) -> Draft:
    warnings: list[str] = []
    if len(text) > MAX_CHARS:
        text = _first_part(text)
        warnings.append(
            f"text: the letter runs past {MAX_CHARS:,} characters; only the first "
            f"{len(text):,} are read, so check the draft against the rest"
        )
    text, removed = clean(text)
    confidence: dict[str, float] = {}
    if removed:
        warnings.append(f"text: {removed} control characters in the letter were removed")
    if other := _other_act(text, force, law):
        warnings.append(other)
    lines = text.split("\n")
    salutation = next((i for i, line in enumerate(lines[:120]) if _SALUTATION.match(line)), None)
    requester, requester_warnings = find_requester(lines, salutation)
    redactor = requester.redactor()
    warnings += requester_warnings

    reference, confidence["reference"] = find_reference(lines)
    body_start = salutation + 1 if salutation is not None else 0
    closing = _closing_index(lines, body_start)
    body_end = closing if closing is not None else len(lines)
    dated, date_confidence, date_line = find_letter_date(lines, max(body_start, 1) + 30)
    letter_date = dated.on if dated else None
    if date_line is not None and salutation is None:
        body_start = max(body_start, date_line + 1)

    request_start, request_end, inline = _request_bounds(lines, body_start, body_end)
    review = bool(
        _REVIEW_LETTER.search("\n".join(r for r in lines[:body_end] if not _RIGHTS.search(r)))
    )
    if review:
        confidence["responses[0].kind"] = 0.8
    year_hint = None
    if reference:
        years = re.findall(r"(?<!\d)(20\d\d)(?!\d)", reference)
        short = re.findall(r"(?<![\d])(\d{2})(?![\d])", reference)
        if years:
            year_hint = int(years[0])
        elif short:
            year_hint = 2000 + int(short[-1]) if int(short[-1]) <= 40 else None
    received, received_confidence = find_received(
        "\n".join(lines[body_start:body_end] if body_end > body_start else lines),
        letter_date,
        year_hint,
        review=review,
        header=lines[:body_start],
    )
    if dated is not None and letter_date is None:
        letter_date = letter_year(dated, received, year_hint)
        date_confidence = 0.6
        if letter_date is not None:
            warnings.append(
                f"responses[0].responded_on: the letter is dated without its year; "
                f"{letter_date.year} is taken from its "
                f"{'received date' if received else 'reference'}: check it"
            )

    request_lines: list[str] = []
    if request_start is not None and request_end is not None:
        request_lines = ([inline] if inline else []) + lines[request_start + 1 : request_end]
        response_from = request_end
    else:
        response_from = body_start
    items, repeated = _unique(_number_items(request_lines, loose=True) if request_lines else [])
    response_lines = lines[response_from:body_end]
    if not items:
        # No quoted request with numbers: the answers may restate numbered questions.
        restated, repeated = _unique(_number_items(response_lines, loose=False))
        if len(restated) >= 2:
            items = restated
    if repeated:
        warnings.append(
            "request.questions: numbers "
            + ", ".join(sorted(set(repeated)))
            + " appear more than once; only the first of each is kept"
        )
    # An item with no text of its own is a parent ("5d", its parts below it).
    questions = [
        {
            "number": item.number,
            "text": re.sub(r"\s+", " ", item.text) or "(see the lettered parts)",
        }
        for item in items
    ]
    confidence["request.questions"] = 0.85 if questions else 0.3
    if not questions:
        warnings.append(
            "request.questions: no numbered questions found; add them if the request had any"
        )

    answers, used = find_answers(response_lines, {q["number"]: q["text"] for q in questions})
    response_text_lines = [
        line
        for index, line in enumerate(response_lines)
        if index not in used and line and not _SALUTATION.match(line)
    ]
    response_text = "\n".join(response_text_lines).strip()
    decision_text = "\n".join(
        line for line in response_lines if not _RIGHTS.search(line) or len(line) > 200
    )
    decision = decide(
        decision_text, response_lines, law=law, answers=tuple(a["text"] for a in answers)
    )
    warnings += decision.warnings
    signatory, signatory_confidence = find_signatory(lines, closing, force_name)
    if signatory is not None and signatory.get("name") and redactor.holds(str(signatory["name"])):
        signatory = None

    title = find_title(lines, reference)
    if title is None and questions:
        title = _shorten(questions[0]["text"])
        warnings.append("title: none printed; made from the first question, check it")
        confidence["title"] = 0.3
    elif title is None:
        title = f"Request {reference}" if reference else "Untitled request"
        warnings.append("title: none printed; a placeholder is given, replace it")
        confidence["title"] = 0.1
    else:
        confidence["title"] = 0.7
    request_text = "\n".join(line for line in request_lines if line) if request_lines else ""

    response: dict[str, Any] = {
        "kind": ResponseKind.INTERNAL_REVIEW.value if review else ResponseKind.INITIAL.value
    }
    if letter_date is not None:
        response["responded_on"] = letter_date.isoformat()
        confidence["responses[0].responded_on"] = date_confidence
    else:
        warnings.append("responses[0].responded_on: the letter prints no date of its own; add it")
    if decision.outcome is not None:
        response["outcome"] = decision.outcome.value
        confidence["responses[0].outcome"] = decision.outcome_confidence
    else:
        warnings.append("responses[0].outcome: the decision could not be read; set it")
    response["text"] = response_text
    response["answers"] = answers
    if questions and not answers:
        warnings.append(
            "responses[0].answers: no answer is placed under a question number; the response "
            "text holds the whole answer"
        )
    response["citations"] = [_citation(c) for c in decision.citations]
    confidence["responses[0].citations"] = 0.85 if decision.citations else 0.6
    if signatory is not None:
        response["signatory"] = signatory
        confidence["responses[0].signatory"] = signatory_confidence
    else:
        warnings.append("responses[0].signatory: no signatory found after the closing")

    entry: dict[str, Any] = {"force": force}
    if reference is not None:
        entry["reference"] = reference
    else:
        warnings.append("reference: no reference found in the letter; add it")
    entry["aliases"] = []
    entry["title"] = title
    entry["topics"] = []
    if received is not None:
        entry["received_on"] = received.isoformat()
        confidence["received_on"] = received_confidence
    else:
        warnings.append("received_on: the letter prints no date of receipt; add it")
    entry["request"] = {"text": request_text, "questions": questions}
    entry["responses"] = [response]
    if review:
        warnings.append(
            "responses[0].kind: an internal review; its initial response is not in this letter"
        )
    return Draft(_within_limits(redactor.redacted(entry)), confidence, warnings)


def _within_limits(entry: dict[str, Any]) -> dict[str, Any]:
    """The texts cut to what an entry document may hold, once redacted (`[the requester]` may
    be longer than the name it stands for)."""
    request = entry["request"]
    request["text"] = request["text"][:200_000]
    for question in request["questions"]:
        question["text"] = question["text"][:10_000]
    for response in entry["responses"]:
        response["text"] = response["text"][:200_000]
    return entry


def _citation(found: Found) -> dict[str, Any]:
    return {
        "exemption": found.exemption,
        "provision": found.provision,
        "ncnd": found.ncnd,
        "questions": [],
        "public_interest": found.public_interest,
        "harm": found.harm,
    }

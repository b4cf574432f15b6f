"""SPEC §6: text about to be published must not name its requester.

Every piece of published text and every needle taken from the requester are brought to one form
before they are compared: NFKC (full-width letters, ligatures, non-breaking spaces), format
characters (zero-width spaces and joiners, soft hyphens) both dropped and read as spaces,
transliterated to ASCII by `anyascii` (accents, and look-alike letters from other scripts: a
Cyrillic `\u0435` in a name is an `e`), lower case, and every run of anything but letters and digits
made one space. A name is then a run of whole words, whatever punctuation, case or spacing
separates them, and the ways of writing it are listed as such runs. Text with markup is also
read as what it shows (tags as spaces, entities as their characters), and an email also as the
words it is spelled out in (`zeb dot q at example dot org`)."""

import html
import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol
from urllib.parse import unquote

from anyascii import anyascii

from app.entries.service import RequestParts, TopicParts
from app.errors import ErrorLoc, RuleViolation

RULE = "privacy-requester-named"
# Shorter names or emails would match ordinary words; they are not personal data on their own.
MIN_NEEDLE = 3
# Words written before a name ("Mr Quartermaine", "Dear Ms Quartermaine"). The surname after
# one of them is the person, where the surname alone may be an ordinary word ("Baker").
TITLES = frozenset(
    "mr mrs ms miss mx master dr doctor prof professor sir dame lord lady rev revd reverend "  # noqa: SIM905
    "fr father sister brother cllr councillor hon dear madam".split()
)
# Words written after a name that say nothing about who it is.
SUFFIXES = frozenset("esq jr jnr sr snr qc kc mp msp mbe obe cbe phd".split())  # noqa: SIM905
# Words that open a surname of more than one word ("de la Cruz", "van der Berg").
PARTICLES = frozenset(
    "de la le du da di van von der den del della st ter ten bin ibn al".split()  # noqa: SIM905
)
# A markup tag, read as the space it stands in for.
_TAG = re.compile(r"<[^<>]*>")
UK_POSTCODE = re.compile(r"\b([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})\b", re.IGNORECASE)


class Requested(RequestParts, Protocol):
    """A request as the guard reads it: an ORM row, or the plain object a bulk import builds."""

    @property
    def requester_name(self) -> str | None: ...
    @property
    def requester_email(self) -> str | None: ...


PublishedText = tuple[ErrorLoc, str]


def shown(text: str) -> list[str]:
    """The text, and where it holds markup, what the markup shows: tags read as spaces and as
    nothing (`<b>Zebedee</b>`, `Zeb<b></b>edee`), entities as their characters
    (`Zebedee&nbsp;Quartermaine`); where it holds %-escapes, as a URL shows them
    (`zeb.q%40example.org`)."""
    texts = [text]
    if "<" in text or "&" in text:
        texts += [html.unescape(_TAG.sub(" ", text)), html.unescape(_TAG.sub("", text))]
    if "%" in text:
        texts += [unquote(each) for each in texts]
    return texts


def _forms(texts: list[str]) -> list[str]:
    """The texts (`shown`) in the compared form, with format characters dropped and read as
    spaces, so both "Zebedee\u200bQuartermaine" and "Quarter\u200bmaine" are found."""
    forms: set[str] = set()
    for shown in texts:
        shown = unicodedata.normalize("NFKC", shown)
        forms.add("".join(c for c in shown if unicodedata.category(c) != "Cf"))
        forms.add("".join(" " if unicodedata.category(c) == "Cf" else c for c in shown))
    return [_words(form) for form in forms]


def _words(text: str) -> str:
    folded = anyascii(text).lower()
    return " " + " ".join(re.findall(r"[a-z0-9]+", folded)) + " "


def _tokens(text: str) -> list[str]:
    return _words(unicodedata.normalize("NFKC", text)).split()


def _name_parts(name: str) -> tuple[list[str], list[str]]:
    """The stored name's given names and surname, as compared words, titles and suffixes
    left out."""
    if "," in name:  # stored "Surname, Given"
        surname_part, _, given_part = name.partition(",")
        words = given_part.split() + surname_part.split()
        surname_words = surname_part.split()
    else:
        words = name.split()
        surname_words = words[-1:]
        # "Mary de la Cruz": the particles before the last word belong to the surname.
        for word in reversed(words[:-1]):
            if word.lower().strip(".") not in PARTICLES:
                break
            surname_words.insert(0, word)
    surname = _tokens(" ".join(surname_words))
    given = [
        t
        for t in _tokens(" ".join(words[: len(words) - len(surname_words)]))
        if t not in TITLES and t not in SUFFIXES
    ]
    while surname and surname[-1] in SUFFIXES:
        surname.pop()
    if not surname and given:
        surname = [given.pop()]
    return given, surname


def _name_phrases(name: str) -> set[str]:
    """Every way of writing the stored name that is to be found: in full, surname first, with
    initials, and the surname after a title or salutation."""
    given, surname = _name_parts(name)
    if len(" ".join([*given, *surname])) < MIN_NEEDLE:
        return set()
    phrases = _written(given, surname)
    if len(surname) > 1:  # "O'Neil" as "ONeil", "Smith-Jones" as "SmithJones"
        phrases |= _written(given, ["".join(surname)])
    return phrases


def _written(given: list[str], surname: list[str]) -> set[str]:
    phrases = {" ".join([*given, *surname])}
    if not given:
        return phrases
    phrases.add("".join([*given, *surname]))  # run together: "ZebedeeQuartermaine"
    firsts = [given[0]]
    phrases |= {" ".join([*firsts, *surname]), " ".join([*surname, *given])}
    phrases.add(" ".join([*surname, *firsts]))
    initials = [g[0] for g in given]
    phrases |= {
        " ".join([initials[0], *surname]),
        " ".join([*initials, *surname]),
        " ".join(["".join(initials), *surname]),
        " ".join([*surname, initials[0]]),
        " ".join([*surname, *initials]),
        " ".join([*firsts, *initials[1:], *surname]),  # "Zebedee A. Quartermaine"
        " ".join([*firsts, surname[0][0]]),  # "Zebedee Q."
    }
    phrases |= {" ".join([title, *surname]) for title in TITLES}
    return phrases


def _address_phrases(address: str) -> set[str]:
    """The postcode, and each line that says where someone lives (a house name or the first
    line, and any line with a number, with and without it). Town and county lines are not
    needles of their own: they name places of thousands, and a force's own area is in most
    of its texts."""
    phrases: set[str] = set()
    for outward, inward in UK_POSTCODE.findall(address):
        phrases |= {f"{outward} {inward}".lower(), f"{outward}{inward}".lower()}
    rest = UK_POSTCODE.sub(" ", address)
    lines = [line for line in re.split(r"[,\n;]+", rest) if line.strip()]
    for index, line in enumerate(lines):
        words = _tokens(line)
        if not words:
            continue
        has_number = any(any(c.isdigit() for c in w) for w in words)
        if index == 0 or has_number:
            if len(words) >= 2 and len(" ".join(words)) >= 6:
                phrases.add(" ".join(words))
            street = [w for w in words if not any(c.isdigit() for c in w)]
            if has_number and len(street) >= 2:
                phrases.add(" ".join(street))
    return phrases


def _email_needles(email: str) -> set[str]:
    email = "".join(_forms_raw(email))
    return {email} if len(email) >= MIN_NEEDLE else set()


def _spelled_email_phrases(email: str) -> set[str]:
    """The email spelled out against harvesters, as word phrases: `zeb.q [at] example [dot]
    org`, `zeb dot q at example dot org`, however the at and dots are bracketed; and its words
    alone, as a slug makes them (`zeb-q-example-org`)."""
    local, at, domain = email.strip().partition("@")
    if not at or not local or not domain:
        return set()
    phrases: set[str] = set()
    for at_word, local_dot, domain_dot in itertools.product(("at", ""), ("dot", ""), ("dot", "")):
        spelled = f"{local.replace('.', f' {local_dot} ')} {at_word} "
        spelled += domain.replace(".", f" {domain_dot} ")
        phrases.add(_words(spelled).strip())
    return phrases


def _forms_raw(text: str) -> Iterator[str]:
    """Text as emails are compared: folded and lower case, with no white space at all."""
    text = unicodedata.normalize("NFKC", text)
    for c in anyascii("".join(c for c in text if unicodedata.category(c) != "Cf")).lower():
        if not c.isspace():
            yield c


# Words that may stand between a given name and the surname when both are written apart
# ("Quartermaine's request, from Zebedee"; "Zebedee, whose surname is Quartermaine").
NEARBY_WORDS = 6


class Needles:
    """What names the requester, in the compared form."""

    def __init__(
        self, *, name: str | None = None, email: str | None = None, address: str | None = None
    ) -> None:
        self.phrases = _name_phrases(name or "")
        given, surname = _name_parts(name or "")
        # The first given name and the surname, each long enough not to be a stray letter.
        self.apart = (
            (given[0], " ".join(surname))
            if given and len(given[0]) >= MIN_NEEDLE and len("".join(surname)) >= MIN_NEEDLE
            else None
        )
        self.phrases |= _address_phrases(address or "")
        self.phrases |= _spelled_email_phrases(email or "")
        self.emails = _email_needles(email or "")

    @classmethod
    def of(cls, request: Requested) -> "Needles":
        """A request's requester, as far as it is known: a bulk import's new requests carry no
        requester, and so no address either."""
        return cls(
            name=request.requester_name,
            email=request.requester_email,
            address=getattr(request, "requester_address", None),
        )

    def __bool__(self) -> bool:
        return bool(self.phrases or self.emails)

    def _near(self, form: str) -> bool:
        """The given name and the surname within NEARBY_WORDS words of each other."""
        if self.apart is None:
            return False
        given, surname = self.apart
        if f" {given} " not in form or f" {surname} " not in form:
            return False
        words = form.split()
        length = len(surname.split())
        at_given = [i for i, word in enumerate(words) if word == given]
        at_surname = [
            i for i in range(len(words) - length + 1) if " ".join(words[i : i + length]) == surname
        ]
        return any(abs(g - s) <= NEARBY_WORDS for g in at_given for s in at_surname)

    def found_in(self, text: str) -> bool:
        if not text:
            return False
        texts = shown(text)
        forms = _forms(texts)
        if any(f" {phrase} " in form for phrase in self.phrases for form in forms):
            return True
        if any(self._near(form) for form in forms):
            return True
        for each in texts if self.emails else ():
            squashed = "".join(_forms_raw(each))
            if any(email in squashed for email in self.emails):
                return True
        return False


def published_text(
    request: Requested, title: str, topics: Sequence[TopicParts] | None = None
) -> Iterator[PublishedText]:
    """Each piece of text the entry document shows, with its place in the document."""
    yield ("title",), title
    yield ("reference",), request.reference
    for i, alias in enumerate(request.aliases or []):
        yield ("aliases", i), alias
    if topics is None:
        topics = getattr(request, "topics", None) or []
    for i, topic in enumerate(topics):
        yield ("topics", i), f"{topic.slug}\n{topic.label}"
    yield ("request", "text"), request.text
    for i, question in enumerate(request.questions):
        yield ("request", "questions", i, "number"), question.number
        yield ("request", "questions", i, "text"), question.text
    for i, response in enumerate(request.responses):
        where: ErrorLoc = ("responses", i)
        yield (*where, "text"), response.text
        for j, answer in enumerate(response.answers):
            yield (*where, "answers", j, "text"), answer.text
        for j, citation in enumerate(response.citations):
            cited: ErrorLoc = (*where, "citations", j)
            yield (*cited, "provision"), citation.provision
            interest = citation.public_interest or {}
            for side in ("for", "against"):
                for k, factor in enumerate(interest.get(side) or []):
                    yield (*cited, "public_interest", side, k), str(factor)
            yield (*cited, "public_interest", "balance"), str(interest.get("balance") or "")
            yield (*cited, "harm"), citation.harm or ""
        yield (*where, "signatory", "name"), response.signatory_name or ""
        yield (*where, "signatory", "role"), response.signatory_role or ""


def mentions(
    request: Requested,
    title: str,
    *,
    topics: Sequence[TopicParts] | None = None,
    extra: Iterable[PublishedText] = (),
) -> list[list[str | int]]:
    """Where the requester's name, email or address stands in the text to be published.
    `extra`: further published text with its place (an attachment's text, for one)."""
    return _found(request, [*published_text(request, title, topics), *extra])


def _found(request: Requested, texts: Iterable[PublishedText]) -> list[list[str | int]]:
    needles = Needles.of(request)
    if not needles:
        return []
    return [list(loc) for loc, text in texts if needles.found_in(text)]


# How a write acknowledges the warning: in its JSON body (publishing, an entry's change, an
# import line) or, where the body is the thing written (a request, a response, a file), in its
# query.
IN_BODY = '"acknowledge_privacy_warning": true in the body'
IN_QUERY = "?acknowledge_privacy_warning=true"


def guard(
    request: Requested,
    title: str,
    *,
    acknowledged: bool,
    loc: ErrorLoc = (),
    topics: Sequence[TopicParts] | None = None,
    extra: Iterable[PublishedText] = (),
    acknowledge: str = IN_BODY,
) -> list[list[str | int]]:
    """Refuse to publish text naming the requester unless the caller acknowledged it; returns
    what was acknowledged, for the audit log. `loc` prefixes the places named in the error;
    `topics` are the entry's (the request's when not given); `acknowledge` says how to."""
    texts = [*published_text(request, title, topics), *extra]
    return guard_texts(request, texts, acknowledged=acknowledged, loc=loc, acknowledge=acknowledge)


def guard_texts(
    request: Requested,
    texts: Iterable[PublishedText],
    *,
    acknowledged: bool,
    loc: ErrorLoc = (),
    acknowledge: str = IN_BODY,
) -> list[list[str | int]]:
    """`guard` for some texts only: what one write adds to a live entry (an attachment)."""
    found = _found(request, texts)
    if found and not acknowledged:
        fields = ", ".join(".".join(str(part) for part in where) for where in found)
        detail = (
            f"the text to be published names the requester ({fields}); remove it, or send "
            f"{acknowledge} to publish anyway"
        )
        places = [[*loc, *where] for where in found]
        violation = RuleViolation(RULE, detail, loc=places[0])
        violation.errors = [{"loc": where, "msg": detail, "rule": RULE} for where in places]
        raise violation
    return found

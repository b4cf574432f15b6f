import re
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.db import reference_data
from app.errors import BadRequest, NotFound
from app.exemptions.schemas import ExemptionDetail, ExemptionPublic
from app.models import DisclosureEntry, EntryExemption, Exemption, Law
from app.visibility import public_entries


def list_exemptions(session: Session, *, law: str | None = None) -> list[ExemptionPublic]:
    query = select(Exemption).order_by(Exemption.law, Exemption.id)
    if law is not None:
        if law.upper() not in Law.__members__:
            raise BadRequest(f"unknown law {law!r}; one of {', '.join(Law)}")
        query = query.where(col(Exemption.law) == law.upper())
    return [ExemptionPublic.model_validate(e.model_dump()) for e in session.scalars(query)]


def get(session: Session, exemption_id: str) -> Exemption:
    exemption = session.get(Exemption, exemption_id)
    if exemption is None:
        raise NotFound(f"no exemption with id {exemption_id!r}; GET /v1/exemptions lists them")
    return exemption


def get_exemption(session: Session, exemption_id: str, now: datetime) -> ExemptionDetail:
    exemption = get(session, exemption_id)
    counts = session.execute(
        select(DisclosureEntry.force_id, func.count())
        .join(EntryExemption, col(EntryExemption.entry_id) == DisclosureEntry.id)
        .where(EntryExemption.exemption_id == exemption_id, public_entries(now))
        .group_by(DisclosureEntry.force_id)
        .order_by(DisclosureEntry.force_id)
    )
    by_force = dict(counts.all())
    return ExemptionDetail.model_validate(
        {
            **exemption.model_dump(),
            "entry_count": sum(by_force.values()),
            "entry_count_by_force": by_force,
        }
    )


def catalogue(session: Session) -> "Catalogue":
    """The catalogue by id, built once per process from `listed`."""
    return reference_data(session, "exemption-catalogue", lambda s: Catalogue(listed(s)))


def known_ids(session: Session) -> frozenset[str]:
    """The catalogue's ids, cached per process (only a migration changes them)."""
    return reference_data(session, "exemptions", _load_ids)


def _load_ids(session: Session) -> frozenset[str]:
    return frozenset(session.scalars(select(Exemption.id)))


def listed(session: Session) -> list[ExemptionPublic]:
    """The whole catalogue, loaded once per process (only a migration changes it)."""
    return reference_data(session, "exemption-list", list_exemptions)


# A provision as a letter cites it: a section or regulation number, perhaps with letters
# (`22A`), and its subdivisions (`31(1)(a)`, `40(5A)`, `30(2)(a)(ii)`); after `&`, `,`, `/`,
# a dash, `and`, `or` or `to`, another provision or more subdivisions of the one before
# (`35(1)(a)&(b)`, `31(1)(a)-(c)`).
_JOINED = re.compile(r"\s*(?:[&,/\u2013-]|\band\b|\bor\b|\bto\b)\s*")
_SUBDIVISIONS = r"(?:\([0-9A-Za-z]{1,5}\))"
_PROVISION = re.compile(rf"[0-9]{{1,3}}[A-Za-z]{{0,2}}{_SUBDIVISIONS}*")
_MORE_SUBDIVISIONS = re.compile(rf"{_SUBDIVISIONS}+")
_SUBDIVISION = re.compile(_SUBDIVISIONS)
# Neither-confirm-nor-deny provisions as they stood before the Data Protection Act 2018 (Sch
# 19) replaced them, from 25 May 2018, by FOIA s40(5A) and (5B) and EIR reg 13(5A) and (5B): a
# log's older responses cite them.
_FORMER_NCND = {"foia-s40": ["40(5)"], "eir-r13": ["13(5)"]}


def _within(provision: str, head: str) -> bool:
    """`provision` is `head` or one of its subdivisions: `31(1)(a)` is within `31`, and
    `12(5)(b)` within itself, but `22A(1)` is not within `22`."""
    provision, head = provision.upper(), head.upper()
    return provision == head or provision.startswith(f"{head}(")


def _ncnd_subsections(exemption: ExemptionPublic) -> list[str]:
    subsections = exemption.ncnd_subsection or ""
    return [part.strip() for part in subsections.split(",") if part.strip()]


def _parts(provision: str) -> list[str]:
    return _JOINED.split(re.sub(r"\s+(?=\()", "", provision))


def _named(provision: str) -> list[str]:
    """Each provision a citation names in full: `24(1) & (2)` names 24(1) and 24(2), the
    subdivisions after the `&` taking the place of as many at the end of the one before."""
    named: list[str] = []
    for part in _parts(provision):
        if _PROVISION.fullmatch(part):
            named.append(part)
        elif named and _MORE_SUBDIVISIONS.fullmatch(part):
            before = named[-1]
            subdivisions = _SUBDIVISION.findall(before)
            kept = subdivisions[: max(len(subdivisions) - len(_SUBDIVISION.findall(part)), 0)]
            named.append(before.split("(")[0] + "".join(kept) + part)
    return named


class Catalogue(dict[str, ExemptionPublic]):
    """The catalogue by id, with what the citation rules read of it worked out once (an
    import checks every citation of every line against it)."""

    def __init__(self, rows: Iterable[ExemptionPublic]) -> None:
        super().__init__((e.id, e) for e in rows)
        self._heads = {e.id: self._find_heads(e) for e in self.values()}
        self._partners = {e.id: self._find_partners(e) for e in self.values()}
        self._ncnd_own = {e.id: self._find_ncnd_own(e) for e in self.values()}
        self._ncnd_held = {e.id: self._find_ncnd_held(e) for e in self.values()}

    def _owner(self, provision: str, law: str) -> str | None:
        """The id of the entry of `law` whose section `provision` is within, if any."""
        return next(
            (e.id for e in self.values() if e.law == law and _within(provision, e.section)), None
        )

    def _find_heads(self, exemption: ExemptionPublic) -> list[str]:
        return [exemption.section] + [
            subsection
            for subsection in _ncnd_subsections(exemption)
            if self._owner(subsection, exemption.law) is None
        ]

    def _find_partners(self, exemption: ExemptionPublic) -> list[str]:
        return [
            e.id
            for e in self.values()
            if e.id != exemption.id
            and any(self._owner(s, e.law) == exemption.id for s in _ncnd_subsections(e))
        ]

    def _find_ncnd_own(self, exemption: ExemptionPublic) -> list[str]:
        return [
            subsection
            for subsection in _ncnd_subsections(exemption)
            if self._owner(subsection, exemption.law) in (None, exemption.id)
        ] + _FORMER_NCND.get(exemption.id, [])

    def _find_ncnd_held(self, exemption: ExemptionPublic) -> list[str]:
        owners = (self._owner(s, exemption.law) for s in _ncnd_subsections(exemption))
        return [owner for owner in owners if owner not in (None, exemption.id)]

    def heads(self, exemption_id: str) -> list[str]:
        """What a provision of the exemption begins with: its section (or regulation), or a
        subsection outside every entry's section that lets it neither confirm nor deny (EIR
        12(6) for 12(5)(a)). FOISA's 18(1) is no provision of s35: it is `foisa-s18`'s, cited
        beside it."""
        return self._heads[exemption_id]

    def cites(self, exemption_id: str, provision: str) -> bool:
        """Whether `provision` is a provision of the exemption, in every part (`31(1)(a) &
        24(2)` is not one of s31's)."""
        heads = self._heads[exemption_id]
        parts = _parts(provision)
        return all(
            any(_within(part, head) for head in heads)
            if _PROVISION.fullmatch(part)
            else i > 0 and _MORE_SUBDIVISIONS.fullmatch(part) is not None
            for i, part in enumerate(parts)
        )

    def ncnd_partners(self, exemption_id: str) -> list[str]:
        """The exemptions whose neither-confirm-nor-deny provision is this one (FOISA s18(1),
        for ss28-35, 38, 39 and 41): it is cited with one of them, never alone."""
        return self._partners[exemption_id]

    def cites_ncnd(self, exemption_id: str, provision: str) -> bool:
        """Whether `provision` names, in some part, the subsection of the exemption's own that
        lets it neither confirm nor deny (`31(1)(a) & 31(3)` for s31; `40(5B)(a)(i)` or,
        before 2018, `40(5)` for s40). True of an exemption with no such subsection of its
        own: its `ncnd` is `ncnd_held_by` another entry's, or none at all."""
        own = self._ncnd_own[exemption_id]
        return not own or any(_within(p, s) for p in _named(provision) for s in own)

    def ncnd_held_by(self, exemption_id: str) -> list[str]:
        """The entries whose provision lets this exemption neither confirm nor deny when it is
        not one of its own: `foisa-s18` (s18(1)) for FOISA ss28-35, 38, 39 and 41."""
        return self._ncnd_held[exemption_id]

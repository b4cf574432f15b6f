"""Round-robin groups (SPEC §12): linking published entries whose request texts are
near-identical across forces, and reading the groups.

Linking runs inside the write that publishes, announces, changes or withdraws an entry, and
locks only what it touches (PostgreSQL advisory locks, held until commit): first the band keys
of the entries it links, so two copies of one request linked at once run one after the other
and the second finds the first's band keys; then the entries it reads and rewrites (its
matches and every member of their groups), read again once held (`read_under_locks`). Writes
of unrelated entries share no key and never wait on each other. A group holds at most one
entry per force, only visible entries, and never fewer than two."""

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import orjson
from sqlalchemy import (
    Integer,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlmodel import Session

from app.db import insert_many, lock_for_transaction, read_under_locks, utcnow
from app.disclosure_log.schemas import LogFilters
from app.errors import BadRequest, NotFound
from app.models import (
    MAX_ID,
    DisclosureEntry,
    EntryExemption,
    FoiQuestion,
    FoiRequest,
    RoundRobin,
    RoundRobinBand,
    RoundRobinEntry,
    table_of,
)
from app.pagination import decode_cursor, encode_cursor
from app.round_robins import similarity
from app.round_robins.schemas import (
    RoundRobinDetail,
    RoundRobinMember,
    RoundRobinRef,
    RoundRobinSummary,
)
from app.round_robins.similarity import sign as sign
from app.search import engine_for
from app.visibility import public_entries

# An entry's lock key: "RR" in the high bits keeps it apart from band keys (random 64-bit
# numbers; a clash would only make two writers wait, never link wrongly).
ENTRY_KEYS = 0x5252 << 48
# Band keys per IN list: well under either database's limit on bound parameters.
CHUNK = 2000
# Candidates verified per entry, those sharing the most band keys first. True copies share
# several keys (4 of 16 on average at similarity 0.7); one force's yearly repeats of a request
# can otherwise make thousands of entries share one.
MAX_CANDIDATES = 100
# Entries linked per transaction by an import's linking pass and the backfill: PostgreSQL's
# lock table holds 6,400 locks by default, and each entry takes 16 band keys.
BATCH = 100


_band = table_of(RoundRobinBand).c
_member = table_of(RoundRobinEntry).c
_group = table_of(RoundRobin).c
_entry = table_of(DisclosureEntry).c


# Some entries' candidates, with their signatures: for each of the entries (`ids`), the
# holders of its band keys that share the most keys with it, counted and ranked by the
# database: the first `most`, in that order. One statement for a batch of entries: a statement
# an entry was 45% of a PostgreSQL linking pass (py-spy, 100,000 entries), most of it the
# round trips and each statement's own handling, not the lookups.
_own = table_of(RoundRobinBand).alias("own")
_holder = table_of(RoundRobinBand).alias("holder")
_shared = (
    select(
        _own.c.entry_id.label("entry"),
        _holder.c.entry_id.label("candidate"),
        func.count().label("shared"),
    )
    .join_from(
        _own, _holder, and_(_holder.c.band == _own.c.band, _holder.c.entry_id != _own.c.entry_id)
    )
    .where(_own.c.entry_id.in_(bindparam("ids", expanding=True)))
    .group_by(_own.c.entry_id, _holder.c.entry_id)
    .subquery()
)
_ranked = select(
    _shared,
    func.row_number()
    .over(
        partition_by=_shared.c.entry,
        order_by=(_shared.c.shared.desc(), _shared.c.candidate.desc()),
    )
    .label("rank"),
).subquery()
_CANDIDATES = (
    select(_ranked.c.entry, _member.entry_id, _member.signature)
    .join_from(_ranked, table_of(RoundRobinEntry), _member.entry_id == _ranked.c.candidate)
    .where(_ranked.c.rank <= bindparam("most", type_=Integer), _member.signature.is_not(None))
    .order_by(_ranked.c.entry, _ranked.c.rank)
)

# The groups of some entries (`ids`): each member with its force.
_GROUPS_OF = (
    select(_member.round_robin_id, _member.entry_id, _entry.force_id)
    .join_from(table_of(RoundRobinEntry), table_of(DisclosureEntry), _entry.id == _member.entry_id)
    .where(
        _member.round_robin_id.in_(
            select(_member.round_robin_id)
            .where(_member.entry_id.in_(bindparam("ids", expanding=True)))
            .scalar_subquery()
        )
    )
)

# An entry to link: id, force and signature.
Signed = tuple[int, str, bytes | None]


@dataclass(frozen=True)
class Text:
    """An entry to link: its id, force and the request text compared."""

    entry_id: int
    force_id: str
    text: str


def ref(group_id: int | None, size: int) -> dict[str, Any] | None:
    """The entry document's `round_robin` field."""
    return None if group_id is None else RoundRobinRef(id=str(group_id), size=size).model_dump()


def membership(session: Session, entry_id: int) -> dict[str, Any] | None:
    """The `round_robin` field of an entry's document as the database holds it now."""
    row = session.execute(
        select(_group.id, _group.size)
        .join_from(
            table_of(RoundRobinEntry), table_of(RoundRobin), _group.id == _member.round_robin_id
        )
        .where(_member.entry_id == entry_id)
    ).first()
    return None if row is None else ref(row.id, row.size)


def _chunks(values: Iterable[int]) -> Iterator[list[int]]:
    """The values in ascending order, CHUNK to a list: one IN list of a statement each."""
    ordered = sorted(values)
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def _entry_keys(entry_ids: Iterable[int]) -> set[int]:
    return {ENTRY_KEYS | entry_id for entry_id in entry_ids}


def store(
    session: Session,
    texts: Sequence[Text],
    *,
    group: bool,
    now: datetime | None = None,
    signatures: Sequence[bytes | None] | None = None,
) -> list[int]:
    """Keep the signatures of entries just written (`sign` of their texts, given or computed
    here) and, with `group`, link them (they must be visible). Returns the other entries whose
    documents changed; the given entries' documents are rewritten too when they join a group.
    Entries kept ungrouped have no band keys, so no one finds them, until they are linked
    (`group_announced`)."""
    if not texts:
        return []
    if signatures is None:
        signatures = sign([t.text for t in texts])
    insert_many(
        session.connection(),
        table_of(RoundRobinEntry),
        [
            {"entry_id": t.entry_id, "round_robin_id": None, "signature": signature}
            for t, signature in zip(texts, signatures, strict=True)
        ],
    )
    if not group:
        return []
    signed = [(t.entry_id, t.force_id, s) for t, s in zip(texts, signatures, strict=True)]
    return _link(session, signed, now or utcnow(), new=True)


def _link(session: Session, signed: Sequence[Signed], now: datetime, *, new: bool) -> list[int]:
    """Give these entries their band keys and group them, under the locks described above.
    Returns the entries whose documents changed as updates: not the given ones if `new`
    (their own change is their publication, in this transaction)."""
    signed = [entry for entry in signed if entry[2] is not None]
    if not signed:
        return []
    bands = {entry_id: similarity.band_keys(signature) for entry_id, _, signature in signed}
    lock_for_transaction(session, {band for keys in bands.values() for band in keys})
    insert_many(
        session.connection(),
        table_of(RoundRobinBand),
        [{"band": band, "entry_id": entry_id} for entry_id, keys in bands.items() for band in keys],
    )
    return _Linker(session, now).link(signed, new=new)


def group_announced(session: Session, entry_ids: Sequence[int], *, new: bool = True) -> list[int]:
    """Link entries kept ungrouped (scheduled ones that have just come into view, an import's
    once it is in); entries linked already are left as they are. Returns the entries whose
    documents changed as updates: with `new` (announced in this transaction), not these."""
    rows: list[Any] = []
    for part in _chunks(entry_ids):
        rows += session.execute(
            select(_member.entry_id, _entry.force_id, _member.signature)
            .join_from(
                table_of(RoundRobinEntry), table_of(DisclosureEntry), _entry.id == _member.entry_id
            )
            .where(
                _member.entry_id.in_(part),
                _member.round_robin_id.is_(None),
                _member.signature.is_not(None),
                ~exists().where(_band.entry_id == _member.entry_id),
            )
            .order_by(_member.entry_id)
        ).all()
    return _link(session, [tuple(row) for row in rows], utcnow(), new=new)


@dataclass(frozen=True)
class Backfilled:
    last: int  # the highest entry id looked at: the next batch starts after it
    linked: int  # entries that were never linked and now are
    changed: list[int]  # entries whose documents changed, to announce as updated


def backfill(session: Session, *, after: int, limit: int) -> Backfilled | None:
    """Link the next `limit` entries after id `after` that were never linked: those published
    before round-robins existed (no signature kept) and an import's whose linking pass did not
    run (a signature, no band keys). None once there are none. The caller commits."""
    now = utcnow()
    rows = _unlinked(session, after=after, limit=limit)
    if not rows:
        return None
    unsigned_rows = [row for row in rows if row.unsigned]
    store(session, _texts(session, unsigned_rows), group=False)
    # Their documents predate the field: `null` until they join a group.
    _rewrite(session, {row.id: None for row in unsigned_rows}, now, touched=set())
    visible = set(
        session.execute(
            select(_entry.id).where(_entry.id.in_([row.id for row in rows]), public_entries(now))
        ).scalars()
    )
    changed = group_announced(session, sorted(visible), new=False)
    linked = len(visible & set(changed))
    return Backfilled(last=rows[-1].id, linked=linked, changed=changed)


def any_unlinked(session: Session) -> bool:
    """Whether `backfill` has anything to do: a read, so a caller can look without taking
    SQLite's write lock for the scan."""
    return bool(_unlinked(session, after=0, limit=1))


def _unlinked(session: Session, *, after: int, limit: int) -> Sequence[Any]:
    unsigned = ~exists().where(_member.entry_id == _entry.id)
    waiting = exists().where(
        _member.entry_id == _entry.id,
        _member.round_robin_id.is_(None),
        _member.signature.is_not(None),
        ~exists().where(_band.entry_id == _member.entry_id),
    )
    return session.execute(
        select(_entry.id, _entry.request_id, _entry.force_id, unsigned.label("unsigned"))
        .where(_entry.id > after, _entry.withdrawn_at.is_(None), or_(unsigned, waiting))
        .order_by(_entry.id)
        .limit(limit)
    ).all()


def _texts(session: Session, rows: Sequence[Any]) -> list[Text]:
    """What linking compares of these entries (id, request id, force): as `request_text`."""
    if not rows:
        return []
    request = table_of(FoiRequest).c
    question = table_of(FoiQuestion).c
    ids = [row.request_id for row in rows]
    texts = {
        request_id: text
        for request_id, text in session.execute(
            select(request.id, request.text).where(request.id.in_(ids))
        )
    }
    questions: dict[int, list[str]] = defaultdict(list)
    for request_id, text in session.execute(
        select(question.request_id, question.text)
        .where(question.request_id.in_(ids))
        .order_by(question.request_id, question.position)
    ):
        questions[request_id].append(text)
    return [
        Text(
            row.id,
            row.force_id,
            similarity.request_text(texts[row.request_id], questions[row.request_id]),
        )
        for row in rows
    ]


def relink(session: Session, text: Text, *, visible: bool) -> list[int]:
    """After an entry's request text may have changed: nothing if its signature is the same,
    else it leaves its group and is linked afresh. Returns the other entries whose documents
    changed."""
    signature = sign([text.text])[0]
    stored = session.execute(
        select(_member.entry_id, _member.signature).where(_member.entry_id == text.entry_id)
    ).first()
    if stored is not None and stored.signature == signature:
        return []
    if visible:
        # Band keys before entry keys, as every linking write takes them.
        lock_for_transaction(session, similarity.band_keys(signature))
    changed = leave(session, text.entry_id) if stored is not None else []
    changed += store(session, [text], group=visible, signatures=[signature])
    return sorted(set(changed) - {text.entry_id})


def leave(session: Session, entry_id: int) -> list[int]:
    """Take an entry out of round-robin linking (withdrawn, or its text changed): it leaves its
    group, and the rest splits into the parts still linked without it (`_split`). Returns the
    entries whose documents changed (others of the group)."""

    def read() -> tuple[set[int], tuple[int | None, dict[int, bytes]]]:
        group_id = session.execute(
            select(_member.round_robin_id).where(_member.entry_id == entry_id)
        ).scalar_one_or_none()
        if group_id is None:
            # Its own key still: a linker that read it as an ungrouped match waits, or is
            # waited for.
            return _entry_keys([entry_id]), (None, {})
        members = session.execute(
            select(_member.entry_id, _member.signature).where(_member.round_robin_id == group_id)
        )
        found = {member: signature for member, signature in members}
        return _entry_keys([entry_id, *found]), (group_id, found)

    group_id, members = read_under_locks(session, read)
    session.execute(delete(table_of(RoundRobinBand)).where(_band.entry_id == entry_id))
    session.execute(delete(table_of(RoundRobinEntry)).where(_member.entry_id == entry_id))
    if group_id is None:
        return []
    rest = {member: signature for member, signature in members.items() if member != entry_id}
    return _split(session, group_id, rest, utcnow())


def _parts(signatures: dict[int, bytes]) -> list[list[int]]:
    """The entries in parts linked by a chain of matches (similarity at least THRESHOLD),
    largest first, then by their oldest entry."""
    ids = sorted(signatures)
    values = np.stack([np.frombuffer(signatures[e], dtype="<u4") for e in ids])
    similar = (values[:, None, :] == values[None, :, :]).mean(axis=2) >= similarity.THRESHOLD
    part_of = list(range(len(ids)))

    def root(i: int) -> int:
        while part_of[i] != i:
            part_of[i] = part_of[part_of[i]]
            i = part_of[i]
        return i

    for i, j in zip(*np.nonzero(similar), strict=True):
        part_of[root(int(i))] = root(int(j))
    parts: dict[int, list[int]] = defaultdict(list)
    for i, entry_id in enumerate(ids):
        parts[root(i)].append(entry_id)
    return sorted(parts.values(), key=lambda part: (-len(part), part[0]))


def _split(session: Session, group_id: int, rest: dict[int, bytes], now: datetime) -> list[int]:
    """What is left of a group once an entry leaves it: each part still linked without the
    entry is a group (the largest keeps the id), each entry left alone is in none."""
    parts = _parts(rest) if rest else []
    groups = [part for part in parts if len(part) > 1]
    refs: dict[int, dict[str, Any] | None] = dict.fromkeys(rest)
    if not groups:
        session.execute(delete(table_of(RoundRobin)).where(_group.id == group_id))
    for number, part in enumerate(groups):
        if number == 0:
            session.execute(
                update(table_of(RoundRobin))
                .where(_group.id == group_id)
                .values(size=len(part), updated_at=now)
            )
            target = group_id
        else:
            target = session.scalars(
                insert(table_of(RoundRobin))
                .values(size=len(part), created_at=now, updated_at=now)
                .returning(_group.id)
            ).one()
        refs.update(dict.fromkeys(part, ref(target, len(part))))
    moved: dict[int | None, list[int]] = defaultdict(list)
    for entry_id, new in refs.items():
        moved[None if new is None else int(new["id"])].append(entry_id)
    for target_id, entry_ids in moved.items():
        if target_id != group_id:
            session.execute(
                update(table_of(RoundRobinEntry))
                .where(_member.entry_id.in_(entry_ids))
                .values(round_robin_id=target_id)
            )
    _rewrite(session, refs, now, touched=set(refs))
    return sorted(refs)


def _older(a: int, b: int) -> bool:
    """Whether group `a` is older than `b`: stored groups (ids > 0) by id, before new ones
    (ids < 0, numbered -1, -2, ... as made)."""
    return (a < 0, abs(a)) < (b < 0, abs(b))


@dataclass
class _Group:
    id: int  # negative until the row is written
    members: dict[int, str] = field(default_factory=dict)  # entry id -> force


class _Linker:
    """Groups entries in order against the database and each other, then writes the groups
    that changed and the documents whose `round_robin` changed."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now
        self._reset()

    def _reset(self) -> None:
        self.groups: dict[int, _Group] = {}
        self.group_of: dict[int, int] = {}
        self.before: dict[int, dict[str, Any] | None] = {}
        self.dropped: set[int] = set()
        self.new_ids = -1

    def link(self, signed: Sequence[Signed], *, new: bool) -> list[int]:
        """Group these entries, in order, with verified matches among the visible entries
        (each other included); their band keys are stored. The band keys they share are held:
        no other copy comes or goes meanwhile, so only the matches' groups are read again once
        locked."""
        sharing = self._sharing(entry_id for entry_id, _, _ in signed)

        def read() -> tuple[set[int], None]:
            self._reset()
            return self._plan(signed, sharing), None

        read_under_locks(self.session, read)
        return self._write({entry_id for entry_id, _, _ in signed} if new else set())

    def _plan(
        self, signed: Sequence[Signed], sharing: dict[int, list[tuple[int, bytes]]]
    ) -> set[int]:
        """Group in memory; returns the lock keys of the entries read (the matches and the
        members of every group loaded)."""
        # Verified by signature first, then only the matches' rows read: most candidates
        # share a band key by a common phrase, and reading their entries' rows cost 26 ms of
        # 56 per publication in a profile at 100,000 entries.
        scored: dict[int, list[tuple[float, int]]] = {}
        for entry_id, _, signature in signed:
            assert signature is not None
            candidates = sharing.get(entry_id, [])
            similar = similarity.estimated_jaccards(signature, [theirs for _, theirs in candidates])
            scored[entry_id] = [
                (score, c)
                for score, (c, _) in zip(similar, candidates, strict=True)
                if score >= similarity.THRESHOLD
            ]
        forces = self._visible({c for found in scored.values() for _, c in found})
        matches = {
            entry_id: [
                (score, c, forces[c])
                for score, c in scored[entry_id]
                if c in forces and forces[c] != force_id
            ]
            for entry_id, force_id, _ in signed
        }
        matched = {c for found in matches.values() for _, c, _ in found}
        self._load({e for e, _, _ in signed} | matched)
        keys = _entry_keys(matched | set(self.group_of))
        for entry_id, force_id, _ in signed:
            # Most similar first; of equals, the larger group: a copy joins the round-robin,
            # not a lone copy that repeats a force already in it.
            found = sorted(matches[entry_id], key=lambda m: (m[0], self._size(m[1])), reverse=True)
            self._join(entry_id, force_id, found)
        return keys

    def _sharing(self, entry_ids: Iterable[int]) -> dict[int, list[tuple[int, bytes]]]:
        """For each entry (its band keys stored), the entries that share the most band keys
        with it, with their signatures: at most MAX_CANDIDATES, so a text that many entries
        nearly repeat does not make every publication read them all. The database counts and
        ranks the holders of the entries' keys and sends back only those kept (at 1,000,000
        entries an entry's keys have some 750 holders, most sharing one key by a common
        phrase)."""
        connection = self.session.connection()
        sharing: dict[int, list[tuple[int, bytes]]] = {}
        for part in _chunks(entry_ids):
            for entry_id in part:
                sharing[entry_id] = []
            rows = connection.execute(_CANDIDATES, {"ids": part, "most": MAX_CANDIDATES})
            for entry_id, candidate, theirs in rows:
                sharing[entry_id].append((candidate, theirs))
        return sharing

    def _visible(self, entry_ids: set[int]) -> dict[int, str]:
        """The forces of those of these entries that are visible now."""
        forces: dict[int, str] = {}
        for part in _chunks(entry_ids):
            rows = self.session.execute(
                select(_entry.id, _entry.force_id).where(
                    _entry.id.in_(part), public_entries(self.now)
                )
            )
            forces.update({entry_id: force for entry_id, force in rows})
        return forces

    def _load(self, entry_ids: set[int]) -> None:
        """The current groups of these entries, with all their members."""
        for part in _chunks(entry_ids):
            rows = self.session.execute(_GROUPS_OF, {"ids": part})
            for group_id, entry_id, force in rows:
                group = self.groups.setdefault(group_id, _Group(group_id))
                group.members[entry_id] = force
                self.group_of[entry_id] = group_id
        for group in self.groups.values():
            for entry_id in group.members:
                self.before[entry_id] = ref(group.id, len(group.members))

    def _size(self, entry_id: int) -> int:
        group_id = self.group_of.get(entry_id)
        return 1 if group_id is None else len(self.groups[group_id].members)

    def _join(self, entry_id: int, force_id: str, matches: list[tuple[float, int, str]]) -> None:
        """Put the entry in the group of its best matches, merging the groups it bridges while
        no force would appear twice; ungrouped matches of new forces come along."""
        mine = self.group_of.get(entry_id)
        group = self.groups[mine] if mine is not None else _Group(0, {entry_id: force_id})
        for score, other, force in matches:
            theirs = self.group_of.get(other)
            if theirs is not None and theirs == mine:
                continue
            if mine is not None and theirs is not None and score < similarity.MERGE_THRESHOLD:
                # Joining two groups takes more: one false bridge would join every pair.
                continue
            incoming = self.groups[theirs].members if theirs is not None else {other: force}
            if set(incoming.values()) & set(group.members.values()):
                continue
            if theirs is not None and (mine is None or _older(theirs, mine)):
                # The older group keeps its id.
                self.groups[theirs].members.update(group.members)
                if mine is not None:
                    self._drop(mine)
                group, mine = self.groups[theirs], theirs
            else:
                group.members.update(incoming)
                if theirs is not None:
                    self._drop(theirs)
            if mine is None:
                mine = self.new_ids
                self.new_ids -= 1
                group.id = mine
                self.groups[mine] = group
            for member in group.members:
                self.group_of[member] = mine

    def _drop(self, group_id: int) -> None:
        del self.groups[group_id]
        if group_id > 0:
            self.dropped.add(group_id)

    def _write(self, given: set[int]) -> list[int]:
        for group_id in self.dropped:
            self.session.execute(
                update(table_of(RoundRobinEntry))
                .where(_member.round_robin_id == group_id)
                .values(round_robin_id=None)
            )
            self.session.execute(delete(table_of(RoundRobin)).where(_group.id == group_id))
        after: dict[int, dict[str, Any] | None] = {}
        for group in self.groups.values():
            size = len(group.members)
            if group.id < 0:
                group.id = self.session.scalars(
                    insert(table_of(RoundRobin))
                    .values(size=size, created_at=self.now, updated_at=self.now)
                    .returning(_group.id)
                ).one()
            elif any(self.before.get(e) != ref(group.id, size) for e in group.members):
                self.session.execute(
                    update(table_of(RoundRobin))
                    .where(_group.id == group.id)
                    .values(size=size, updated_at=self.now)
                )
            for entry_id in group.members:
                after[entry_id] = ref(group.id, size)
        for entry_id in self.before.keys() - after.keys():
            after[entry_id] = None
        changed = {e: r for e, r in after.items() if self.before.get(e) != r}
        moved: dict[int | None, list[int]] = defaultdict(list)
        for entry_id, new in changed.items():
            moved[None if new is None else int(new["id"])].append(entry_id)
        for target, entry_ids in moved.items():
            self.session.execute(
                update(table_of(RoundRobinEntry))
                .where(_member.entry_id.in_(entry_ids))
                .values(round_robin_id=target)
            )
        _rewrite(self.session, changed, self.now, touched=set(changed) - given)
        return sorted(set(changed) - given)


def _rewrite(
    session: Session, refs: dict[int, dict[str, Any] | None], now: datetime, *, touched: set[int]
) -> None:
    """Set `round_robin` in these entries' documents; those `touched` count as updated."""
    if not refs:
        return
    rows: list[Any] = []
    for part in _chunks(refs):
        rows += session.execute(select(_entry.id, _entry.document).where(_entry.id.in_(part))).all()
    values = []
    for entry_id, document in rows:
        parsed = orjson.loads(document)
        parsed["round_robin"] = refs[entry_id]
        row: dict[str, Any] = {"b_id": entry_id}
        if entry_id in touched:
            parsed["updated_at"] = now.isoformat().replace("+00:00", "Z")
        row["b_document"] = orjson.dumps(parsed).decode()
        values.append(row)
    session.execute(
        update(table_of(DisclosureEntry))
        .where(_entry.id == bindparam("b_id"))
        .values(document=bindparam("b_document")),
        values,
    )
    bumped = sorted(touched & set(refs))
    if bumped:
        session.execute(
            update(table_of(DisclosureEntry))
            .where(_entry.id.in_(bumped))
            .values(updated_at=now, version=_entry.version + 1)
        )


# ---------------------------------------------------------------------------------------------
# Reading groups (the public API)


def _decode(token: str) -> tuple[int, int]:
    size, last = decode_cursor(token, "round-robins", 2)
    if not all(type(v) is int and 0 <= v <= MAX_ID for v in (size, last)):
        raise BadRequest(f"cursor {token[:40]!r} is not a cursor this API issued")
    return size, last


def list_groups(
    session: Session,
    *,
    forces: tuple[str, ...] = (),
    topics: tuple[str, ...] = (),
    q: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
    count: bool = False,
    now: datetime,
) -> tuple[list[RoundRobinSummary], str | None, int | None]:
    """Groups with a published entry matching the filters (those of the log: a force, a topic,
    full text), largest first, then newest; keyset pages on (size, id)."""
    # The log's filters check their values the same way here; imported here because the log
    # reads entries, whose module links round-robins through this one.
    from app.disclosure_log import service as log

    where = log.conditions(session, LogFilters(forces=forces, topics=topics), now)
    query = log.search_query(q)
    if query is not None:
        where.append(engine_for(session.get_bind()).matches(query))
    matching = (
        select(_member.round_robin_id)
        .join_from(
            table_of(RoundRobinEntry), table_of(DisclosureEntry), _entry.id == _member.entry_id
        )
        .where(*where, _member.round_robin_id == _group.id)
    )
    statement = select(_group.id, _group.size).where(exists(matching))
    total = (
        session.scalar(select(func.count()).select_from(statement.subquery())) if count else None
    )
    if cursor is not None:
        size, last = _decode(cursor)
        statement = statement.where(_group.size <= size, or_(_group.size < size, _group.id < last))
    rows = session.execute(
        statement.order_by(_group.size.desc(), _group.id.desc()).limit(limit + 1)
    ).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor("round-robins", [rows[-1].size, rows[-1].id])
    members = _members(session, [row.id for row in rows])
    items = [
        RoundRobinSummary(
            id=str(row.id),
            size=row.size,
            title=min(members[row.id], key=lambda m: m.id).title,
            forces=sorted({m.force for m in members[row.id]}),
        )
        for row in rows
    ]
    return items, next_cursor, total


def _members(session: Session, group_ids: list[int]) -> dict[int, list[RoundRobinMember]]:
    if not group_ids:
        return {}
    exemption = table_of(EntryExemption).c
    rows = session.execute(
        select(
            _member.round_robin_id,
            _entry.id,
            _entry.force_id,
            _entry.reference,
            _entry.title,
            _entry.received_on,
            _entry.responded_on,
            _entry.outcome,
        )
        .join_from(
            table_of(RoundRobinEntry), table_of(DisclosureEntry), _entry.id == _member.entry_id
        )
        .where(_member.round_robin_id.in_(group_ids))
        .order_by(_entry.force_id, _entry.id)
    ).all()
    cited: dict[int, list[str]] = defaultdict(list)
    for entry_id, exemption_id in session.execute(
        select(exemption.entry_id, exemption.exemption_id)
        .where(exemption.entry_id.in_([row.id for row in rows]))
        .order_by(exemption.entry_id, exemption.exemption_id)
    ):
        cited[entry_id].append(exemption_id)
    found: dict[int, list[RoundRobinMember]] = defaultdict(list)
    for row in rows:
        found[row.round_robin_id].append(
            RoundRobinMember(
                id=row.id,
                force=row.force_id,
                reference=row.reference,
                title=row.title,
                received_on=row.received_on,
                responded_on=row.responded_on,
                outcome=row.outcome,
                exemptions=cited[row.id],
            )
        )
    return found


def get_group(session: Session, group_id: str) -> RoundRobinDetail:
    """One group with each entry's dates, outcome and exemptions, and counts by outcome."""
    missing = NotFound(f"no round-robin with id {group_id[:40]!r}; GET /v1/round-robins lists them")
    # Digits alone, as the id is written (`01` would be the same group at a second address).
    digits = group_id.isascii() and group_id.isdigit() and group_id == str(int(group_id))
    if not digits or not 0 < int(group_id) <= MAX_ID:
        raise missing
    size = session.execute(select(_group.size).where(_group.id == int(group_id))).scalar()
    if size is None:
        raise missing
    entries = _members(session, [int(group_id)]).get(int(group_id), [])
    by_outcome: dict[str, int] = defaultdict(int)
    for entry in entries:
        by_outcome[entry.outcome or "unanswered"] += 1
    return RoundRobinDetail(
        id=group_id, size=len(entries), entries=entries, by_outcome=dict(sorted(by_outcome.items()))
    )

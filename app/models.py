from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    LargeBinary,
    Sequence,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, Relationship, SQLModel

from app.db import UtcDateTime, utcnow

# Ids are INTEGER columns: a larger number names nothing, PostgreSQL refuses to compare one with
# it, and the driver would overflow.
MAX_ID = 2**31 - 1
# For tables whose rows are deleted and whose ids are addresses others keep (a public URL, a
# webhook's message ids): SQLite otherwise gives the next row the largest id plus one, so a
# deleted last row's id went to the next one. PostgreSQL's sequences never hand one out twice.
NEVER_REUSED = {"sqlite_autoincrement": True}


class Law(StrEnum):
    FOIA = "FOIA"
    FOISA = "FOISA"
    EIR = "EIR"


class ExemptionKind(StrEnum):
    ABSOLUTE = "absolute"
    QUALIFIED = "qualified"
    MIXED = "mixed"
    PROCEDURAL = "procedural"


class Outcome(StrEnum):
    DISCLOSED_IN_FULL = "disclosed_in_full"
    PARTIALLY_DISCLOSED = "partially_disclosed"
    REFUSED = "refused"
    NEITHER_CONFIRM_NOR_DENY = "neither_confirm_nor_deny"
    NOT_HELD = "not_held"
    COST_LIMIT = "cost_limit"
    VEXATIOUS_OR_REPEATED = "vexatious_or_repeated"
    ADVICE_ONLY = "advice_only"


class RequestStatus(StrEnum):
    RECEIVED = "received"
    AWAITING_CLARIFICATION = "awaiting_clarification"
    IN_PROGRESS = "in_progress"
    RESPONDED = "responded"
    UNDER_REVIEW = "under_review"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


class ResponseKind(StrEnum):
    INITIAL = "initial"
    INTERNAL_REVIEW = "internal_review"


class Role(StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"


class ChangeKind(StrEnum):
    PUBLISHED = "published"
    UPDATED = "updated"
    WITHDRAWN = "withdrawn"


def table_of(model: type[SQLModel]) -> Table:
    """A model's table. A statement of its columns, rather than the model's attributes, skips
    the ORM's compilation and result handling: reading a page's documents took 0.35 ms so,
    0.19 ms as columns (timeit, SQLite, 40 rows)."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


def _fk(target: str, *, cascade: bool = False, index: bool = True) -> Any:
    ondelete = "CASCADE" if cascade else None
    return Column(ForeignKey(target, ondelete=ondelete), nullable=False, index=index)


def _created() -> Any:
    return Field(default_factory=utcnow, sa_type=UtcDateTime, nullable=False)


class Force(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    country: str = Field(max_length=32)
    law: str = Field(max_length=8)
    holiday_calendar: str = Field(max_length=32)


class Exemption(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=32)
    law: str = Field(max_length=8, index=True)
    section: str = Field(max_length=16)
    heading: str = Field(max_length=300)
    kind: str = Field(max_length=16)
    test: str | None = Field(default=None, max_length=16)
    ncnd_subsection: str | None = Field(default=None, max_length=16)
    notes: str | None = Field(default=None, sa_type=Text)


class Topic(SQLModel, table=True):
    slug: str = Field(primary_key=True, max_length=80)
    label: str = Field(max_length=120)


class RequestTopic(SQLModel, table=True):
    __tablename__ = "request_topic"

    request_id: int = Field(foreign_key="foi_request.id", primary_key=True, ondelete="CASCADE")
    topic_slug: str = Field(foreign_key="topic.slug", primary_key=True, index=True)


class EntryTopic(SQLModel, table=True):
    __tablename__ = "entry_topic"
    __table_args__ = (
        Index("ix_entry_topic_topic_entry", "topic_slug", "entry_id"),
        # A topic's page, newest first, is a walk of this index (migration 0014).
        Index("ix_entry_topic_topic_published", "topic_slug", "published_at", "entry_id"),
    )

    entry_id: int = Field(foreign_key="disclosure_entry.id", primary_key=True, ondelete="CASCADE")
    topic_slug: str = Field(foreign_key="topic.slug", primary_key=True)
    # The entry's published_at, copied by database triggers (migration 0014) on every insert of
    # a link and every change of the time: never written here.
    published_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class FoiRequest(SQLModel, table=True):
    __tablename__ = "foi_request"
    __table_args__ = (UniqueConstraint("force_id", "reference_key"),)

    id: int | None = Field(default=None, primary_key=True)
    force_id: str = Field(sa_column=_fk("force.id", index=False))
    reference: str = Field(max_length=100)
    # Lower case without white space: how clients look a reference up.
    reference_key: str = Field(max_length=100)
    aliases: list[str] = Field(default_factory=list, sa_type=JSON)
    received_on: date
    title: str = Field(max_length=500)
    text: str = Field(default="", sa_type=Text)
    status: str = Field(default=RequestStatus.RECEIVED, max_length=32, index=True)
    clarification_received_on: date | None = None
    due_on: date = Field(index=True)
    extended_due_on: date | None = None
    requester_name: str | None = Field(default=None, max_length=200)
    requester_email: str | None = Field(default=None, max_length=320)
    requester_address: str | None = Field(default=None, sa_type=Text)
    requester_category: str | None = Field(default=None, max_length=40)
    created_at: datetime = _created()
    updated_at: datetime = _created()
    version: int = Field(default=1)

    questions: list["FoiQuestion"] = Relationship(
        sa_relationship_kwargs={"order_by": "FoiQuestion.position", "cascade": "all, delete-orphan"}
    )
    responses: list["FoiResponse"] = Relationship(
        sa_relationship_kwargs={
            "order_by": "(FoiResponse.responded_on, FoiResponse.id)",
            "cascade": "all, delete-orphan",
        }
    )
    topics: list["Topic"] = Relationship(link_model=RequestTopic)


class RequestReference(SQLModel, table=True):
    """Every reference a request answers to (its own and its aliases), normalised as lookups
    normalise them: within a force, one names one request. The unique index holds that against
    writers racing; rows `shared` are the names two requests already shared when migration 0027
    made the rule, which the index lets stay (README, "References")."""

    __tablename__ = "request_reference"
    __table_args__ = (
        Index(
            "uq_request_reference_name",
            "force_id",
            "reference_key",
            unique=True,
            sqlite_where=text("NOT shared"),
            postgresql_where=text("NOT shared"),
        ),
    )

    force_id: str = Field(foreign_key="force.id", primary_key=True)
    reference_key: str = Field(primary_key=True, max_length=100)
    request_id: int = Field(
        foreign_key="foi_request.id", primary_key=True, ondelete="CASCADE", index=True
    )
    shared: bool = False


class FoiQuestion(SQLModel, table=True):
    __tablename__ = "foi_question"
    __table_args__ = (UniqueConstraint("request_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(sa_column=_fk("foi_request.id", cascade=True, index=False))
    position: int
    number: str = Field(max_length=20)
    text: str = Field(sa_type=Text)


class FoiResponse(SQLModel, table=True):
    __tablename__ = "foi_response"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(sa_column=_fk("foi_request.id", cascade=True))
    kind: str = Field(max_length=20)
    responded_on: date
    outcome: str = Field(max_length=32)
    text: str = Field(default="", sa_type=Text)
    signatory_name: str | None = Field(default=None, max_length=200)
    signatory_role: str | None = Field(default=None, max_length=200)
    created_at: datetime = _created()
    updated_at: datetime = _created()
    version: int = Field(default=1)

    answers: list["FoiAnswer"] = Relationship(
        sa_relationship_kwargs={"order_by": "FoiAnswer.position", "cascade": "all, delete-orphan"}
    )
    citations: list["FoiCitation"] = Relationship(
        sa_relationship_kwargs={"order_by": "FoiCitation.position", "cascade": "all, delete-orphan"}
    )


class FoiAnswer(SQLModel, table=True):
    __tablename__ = "foi_answer"

    id: int | None = Field(default=None, primary_key=True)
    response_id: int = Field(sa_column=_fk("foi_response.id", cascade=True))
    position: int
    questions: list[str] = Field(default_factory=list, sa_type=JSON)
    text: str = Field(sa_type=Text)


class FoiCitation(SQLModel, table=True):
    __tablename__ = "foi_citation"

    id: int | None = Field(default=None, primary_key=True)
    response_id: int = Field(sa_column=_fk("foi_response.id", cascade=True))
    position: int
    exemption_id: str = Field(sa_column=_fk("exemption.id"))
    provision: str = Field(max_length=40)
    ncnd: bool = False
    questions: list[str] = Field(default_factory=list, sa_type=JSON)
    public_interest: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    harm: str | None = Field(default=None, sa_type=Text)


VISIBLE_INDEX = "ix_disclosure_entry_visible"


class DisclosureEntry(SQLModel, table=True):
    """The public record of a request: filter columns plus the pre-built entry document."""

    __tablename__ = "disclosure_entry"
    __table_args__ = (
        Index("ix_disclosure_entry_published", "published_at", "id"),
        Index("ix_disclosure_entry_force_published", "force_id", "published_at", "id"),
        Index("ix_disclosure_entry_received", "received_on", "id"),
        Index("ix_disclosure_entry_force_received", "force_id", "received_on", "id"),
        Index("ix_disclosure_entry_outcome_published", "outcome", "published_at", "id"),
        # Whether an entry is public, by id, without reading its row (search windows; 0019).
        Index(VISIBLE_INDEX, "id", "published_at", "withdrawn_at"),
        # The latest write of any entry, part of every public answer's tag: one index probe.
        Index("ix_disclosure_entry_updated", "updated_at"),
        # Covers every column /v1/stats reads of the entry, so its GROUP BYs scan this index
        # instead of rows that hold whole documents (302k entries on SQLite: 19.5 s -> 3.2 s).
        Index(
            "ix_disclosure_entry_stats",
            "published_at",
            "withdrawn_at",
            "force_id",
            "outcome",
            "received_on",
            "responded_on",
            "responded_within_deadline",
            "working_days_to_respond",
        ),
        # The same columns for one force: SQLite chose the (force_id, published_at) index above
        # for a force filter and read each row's document (metropolitan at 1M: 30 s -> 0.6 s).
        Index(
            "ix_disclosure_entry_force_stats",
            "force_id",
            "published_at",
            "withdrawn_at",
            "outcome",
            "received_on",
            "responded_on",
            "responded_within_deadline",
            "working_days_to_respond",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(
        sa_column=Column(ForeignKey("foi_request.id"), nullable=False, unique=True)
    )
    force_id: str = Field(sa_column=_fk("force.id", index=False))
    law: str = Field(max_length=8)
    reference: str = Field(max_length=100)
    title: str = Field(max_length=500)
    received_on: date
    due_on: date
    responded_on: date | None = None
    responded_within_deadline: bool | None = None
    # Working days from receipt to the first initial response, as the deadline counts them:
    # stored because the count needs the holiday calendar, and stats take its median in SQL.
    working_days_to_respond: int | None = None
    outcome: str | None = Field(default=None, max_length=32)
    # Visible to the public once published_at has passed, unless withdrawn.
    published_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    # Set when the change feed has announced the publication (scheduled entries wait).
    announced_at: datetime | None = Field(default=None, sa_type=UtcDateTime, index=True)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    withdrawal_reason: str | None = Field(default=None, sa_type=Text)
    updated_at: datetime = _created()
    version: int = Field(default=1)
    document: str = Field(sa_type=Text)
    search_text: str = Field(sa_type=Text)

    request: FoiRequest = Relationship()
    topics: list["Topic"] = Relationship(link_model=EntryTopic)


class StatsTally(SQLModel, table=True):
    """How many counted entries (published, not withdrawn; scheduled ones too) share a scope,
    force, outcome, law and year of receipt, per facet: what /v1/stats sums instead of reading
    entries (app/tally). `scope` is "" (every entry) or "t:<topic>" (entries with that topic);
    `force_id` "*" sums every force; `facet` is "" (the entries: `n`, `responded`,
    `within_deadline`), "m:<YYYY-MM>", "f:<force>", "t:<topic>", "e:<exemption>" or
    "d:<working days>" (entries with that value)."""

    __tablename__ = "stats_tally"

    scope: str = Field(primary_key=True, max_length=90)
    force_id: str = Field(primary_key=True, max_length=64)
    outcome: str = Field(primary_key=True, max_length=32)
    law: str = Field(primary_key=True, max_length=8)
    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    facet: str = Field(primary_key=True, max_length=90)
    n: int
    responded: int
    within_deadline: int


class StatsCounted(SQLModel, table=True):
    """What each entry added to stats_tally, so a write takes away exactly that."""

    __tablename__ = "stats_counted"

    entry_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    counted: str = Field(sa_type=Text)


class EntryExemption(SQLModel, table=True):
    __tablename__ = "entry_exemption"
    __table_args__ = (Index("ix_entry_exemption_exemption_entry", "exemption_id", "entry_id"),)

    entry_id: int = Field(foreign_key="disclosure_entry.id", primary_key=True, ondelete="CASCADE")
    exemption_id: str = Field(foreign_key="exemption.id", primary_key=True)


class EntryReference(SQLModel, table=True):
    """Every reference an entry answers to (its own and its aliases), normalised for lookup."""

    __tablename__ = "entry_reference"
    __table_args__ = (
        Index("ix_entry_reference_lookup", "force_id", "reference_key"),
        Index("ix_entry_reference_key_entry", "reference_key", "entry_id"),
    )

    entry_id: int = Field(foreign_key="disclosure_entry.id", primary_key=True, ondelete="CASCADE")
    reference_key: str = Field(primary_key=True, max_length=100)
    force_id: str = Field(foreign_key="force.id")


# On PostgreSQL the change numbers come from this sequence (see `db.insert_numbered`).
ENTRY_CHANGE_SEQ = Sequence("entry_change_seq", metadata=SQLModel.metadata)
# The largest change number a BIGINT holds: a cursor past it names no change there could be.
MAX_SEQ = 2**63 - 1


class EntryChange(SQLModel, table=True):
    __tablename__ = "entry_change"

    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    entry_id: int = Field(sa_column=_fk("disclosure_entry.id"))
    kind: str = Field(max_length=16)
    at: datetime = _created()
    # PostgreSQL: a transaction id above every writer that took a lower seq; readers pass this
    # change once no transaction at or below it is in flight. NULL on SQLite.
    horizon: int | None = Field(default=None, sa_type=BigInteger)
    # The entry's topics once this change was made. The feed serves the entry's current
    # document only, so this is how a webhook filtered by topic learns that an update took the
    # entry off its topics (the topics of the entry's change before it). NULL: none recorded.
    topics: list[str] | None = Field(default=None, sa_type=JSON)


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    role: str = Field(max_length=16)
    forces: list[str] = Field(default_factory=list, sa_type=JSON)
    key_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    key_prefix: str = Field(max_length=16)
    created_at: datetime = _created()
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime, nullable=False, index=True)
    key_id: int | None = Field(default=None, foreign_key="api_key.id")
    key_name: str = Field(max_length=100)
    action: str = Field(max_length=64)
    entity_type: str = Field(max_length=32)
    entity_id: str = Field(max_length=64)
    before: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSON)


# Attachments (SPEC §10): the documents a response released. The bytes live in the database,
# in chunks of their own table, so they commit and roll back with the entry they belong to.


class Attachment(SQLModel, table=True):
    __tablename__ = "attachment"
    __table_args__ = NEVER_REUSED

    id: int | None = Field(default=None, primary_key=True)
    response_id: int = Field(sa_column=_fk("foi_response.id", cascade=True))
    filename: str = Field(max_length=255)
    media_type: str = Field(max_length=100)
    size: int = Field(sa_type=BigInteger)
    sha256: str = Field(max_length=64)
    # The text inside, for search and the privacy check; "" for images, and for the kinds
    # whose text was not read when they were uploaded (text, CSV, XLSX, ODT, ODS before 2026-12-05).
    text: str = Field(default="", sa_type=Text)
    created_at: datetime = _created()


class AttachmentChunk(SQLModel, table=True):
    __tablename__ = "attachment_chunk"

    attachment_id: int = Field(
        sa_column=Column(
            ForeignKey("attachment.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    seq: int = Field(primary_key=True)
    data: bytes = Field(sa_type=LargeBinary)


class Webhook(SQLModel, table=True):
    """A subscription: where to POST which changes, and how far its delivery has come."""

    __tablename__ = "webhook"
    __table_args__ = NEVER_REUSED

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=2000)
    events: list[str] = Field(sa_type=JSON)
    forces: list[str] = Field(default_factory=list, sa_type=JSON)
    topics: list[str] = Field(default_factory=list, sa_type=JSON)
    description: str = Field(default="", max_length=500)
    # The Standard Webhooks secret (`whsec_…`) is symmetric: foilog must read it back to sign.
    # With FOILOG_SECRET_KEY set it is stored sealed (`fernet:` + a Fernet token of it).
    secret: str = Field(sa_type=Text)
    created_at: datetime = _created()
    # The last change of the feed this subscription has delivered or skipped (filtered out).
    cursor: int = Field(default=0, sa_type=BigInteger)
    # While the change after `cursor` keeps failing: since when, how often, when to try again.
    failing_since: datetime | None = Field(default=None, sa_type=UtcDateTime)
    failures: int = Field(default=0)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    disabled_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    disabled_reason: str | None = Field(default=None, sa_type=Text)


class WebhookDelivery(SQLModel, table=True):
    """One attempt to deliver one change (or a test message) to one subscription."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        Index("ix_webhook_delivery_webhook_id_id", "webhook_id", "id"),
        # Pruning by age (FOILOG_WEBHOOK_DELIVERY_RETENTION_DAYS).
        Index("ix_webhook_delivery_attempted_at", "attempted_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    webhook_id: int = Field(sa_column=_fk("webhook.id", cascade=True, index=False))
    message_id: str = Field(max_length=100)
    event: str = Field(max_length=32)
    # The change's place in the feed and its entry; null for a test message.
    seq: int | None = Field(default=None, sa_type=BigInteger)
    entry_id: int | None = None
    attempted_at: datetime = _created()
    status_code: int | None = None
    error: str | None = Field(default=None, sa_type=Text)
    next_retry_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    delivered: bool = False


# Round-robin requests (SPEC §12): one text sent to many forces, linked across them.


class RoundRobin(SQLModel, table=True):
    """A group of published entries of different forces whose request texts are
    near-identical. Groups of one are not kept."""

    __tablename__ = "round_robin"
    __table_args__ = (Index("ix_round_robin_size", "size", "id"), NEVER_REUSED)

    id: int | None = Field(default=None, primary_key=True)
    size: int
    created_at: datetime = _created()
    updated_at: datetime = _created()


class RoundRobinEntry(SQLModel, table=True):
    """An entry's MinHash signature (which its band keys come from, and which verifies a
    candidate) and its group, if it has one."""

    __tablename__ = "round_robin_entry"
    __table_args__ = (Index("ix_round_robin_entry_group", "round_robin_id", "entry_id"),)

    entry_id: int = Field(foreign_key="disclosure_entry.id", primary_key=True, ondelete="CASCADE")
    round_robin_id: int | None = Field(
        default=None, foreign_key="round_robin.id", ondelete="SET NULL"
    )
    signature: bytes | None = Field(default=None, sa_type=LargeBinary)


class RoundRobinBand(SQLModel, table=True):
    """One LSH band key of an entry's request text: entries sharing a key are candidates. An
    index derived from the entry's signature, as the search index is: no foreign key for the
    database to check at each of an entry's sixteen rows (migration 0020)."""

    __tablename__ = "round_robin_band"
    __table_args__ = (Index("ix_round_robin_band_entry", "entry_id"),)

    band: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    entry_id: int = Field(primary_key=True)

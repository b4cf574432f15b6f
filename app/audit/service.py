"""The audit log: one row per write, added in the transaction of the write it records."""

from typing import Any

from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import Session, col, select

from app.audit.schemas import AuditEventPublic
from app.errors import BadRequest
from app.keys.schemas import Actor
from app.models import AuditEvent
from app.pagination import Page, decode_cursor, encode_cursor

Snapshot = BaseModel | dict[str, Any] | None


def _json(state: Snapshot) -> dict[str, Any] | None:
    if isinstance(state, BaseModel):
        return state.model_dump(mode="json", by_alias=True)
    return state


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: int | str | None,
    before: Snapshot,
    after: Snapshot,
    *,
    acknowledged: list[list[str | int]] | None = None,
) -> None:
    """`acknowledged`: where the written text names the requester, published anyway at the
    caller's explicit request (SPEC §6)."""
    after_json = _json(after)
    if acknowledged:
        after_json = {**(after_json or {}), "privacy_warning_acknowledged": acknowledged}
    session.add(
        AuditEvent(
            key_id=actor.key_id,
            key_name=actor.name,
            action=action,
            entity_type=entity_type,
            entity_id="" if entity_id is None else str(entity_id),
            before=_json(before),
            after=after_json,
        )
    )


def list_events(
    session: Session,
    *,
    entity_type: str | None = None,
    entity_id: str | None = None,
    action: str | None = None,
    key_name: str | None = None,
    limit: int,
    cursor: str | None = None,
    count: bool = False,
) -> Page[AuditEventPublic]:
    """Newest first."""
    query = select(AuditEvent)
    for column, value in (
        (AuditEvent.entity_type, entity_type),
        (AuditEvent.entity_id, entity_id),
        (AuditEvent.action, action),
        (AuditEvent.key_name, key_name),
    ):
        if value is not None:
            query = query.where(col(column) == value)
    total = None
    if count:
        total = session.exec(select(func.count()).select_from(query.subquery())).one()
    if cursor is not None:
        (last_id,) = decode_cursor(cursor, "audit", 1)
        if not isinstance(last_id, int):
            raise BadRequest("the cursor is not one this API issued")
        query = query.where(col(AuditEvent.id) < last_id)
    rows = list(session.exec(query.order_by(col(AuditEvent.id).desc()).limit(limit + 1)))
    next_cursor = encode_cursor("audit", [rows[limit - 1].id]) if len(rows) > limit else None
    items = [AuditEventPublic.model_validate(row.model_dump()) for row in rows[:limit]]
    # `total` only when counted; the route leaves out what is not set.
    counted = {"total": total} if count else {}
    return Page(items=items, next_cursor=next_cursor, **counted)

"""API keys: random, shown once, stored as a SHA-256 hash, revocable."""

import hashlib
import secrets
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.audit import service as audit
from app.db import utcnow
from app.errors import Conflict, NotFound, RuleViolation, Unauthorized
from app.forces import service as forces_service
from app.keys.schemas import Actor as Actor
from app.keys.schemas import KeyPublic
from app.models import ApiKey, Role

KEY_PREFIX = "foilog_"
LAST_USED_PRECISION = timedelta(hours=1)
# Shown in listings so an operator can tell keys apart without the secret.
SHOWN_PREFIX_LENGTH = 12


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def public(key: ApiKey) -> KeyPublic:
    return KeyPublic.model_validate(key.model_dump())


def create(
    session: Session,
    *,
    name: str,
    role: Role | str,
    forces: Sequence[str] = (),
    actor: Actor | None = None,
) -> tuple[ApiKey, str]:
    """Make a key; the second value is the key itself, which is never stored."""
    name = name.strip()
    if not name or len(name) > 100:
        raise RuleViolation("key-name", "a key name has 1-100 characters", loc=("name",))
    if name.isdigit():
        # `foilog keys revoke 2` revokes the key whose id is 2, which `keys list` shows.
        raise RuleViolation(
            "key-name", "a key name is not all digits: it would read as a key's id", loc=("name",)
        )
    if not name.isprintable():
        raise RuleViolation(
            "key-name", "a key name holds no tab, line break or other control", loc=("name",)
        )
    if role not in set(Role):
        raise RuleViolation("key-role", f"role {role!r} is not one of admin, editor", loc=("role",))
    role = Role(role)
    if role == Role.EDITOR and not forces:
        raise RuleViolation("key-forces", "an editor key needs at least one force", loc=("forces",))
    if role == Role.ADMIN and forces:
        raise RuleViolation("key-forces", "an admin key covers every force", loc=("forces",))
    unknown = sorted(set(forces) - forces_service.known_ids(session))
    if unknown:
        raise RuleViolation("key-forces", f"unknown forces: {', '.join(unknown)}", loc=("forces",))
    if session.exec(select(ApiKey.id).where(ApiKey.name == name)).first() is not None:
        raise Conflict(f"a key named {name!r} exists already")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        name=name,
        role=role,
        forces=sorted(set(forces)),
        key_hash=hash_key(secret),
        key_prefix=secret[:SHOWN_PREFIX_LENGTH],
    )
    session.add(key)
    session.flush()
    audit.record(
        session, actor or Actor.system("cli"), "key.create", "key", key.id, None, public(key)
    )
    session.commit()
    return key, secret


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.exec(select(ApiKey).order_by(col(ApiKey.id))))


def revoke(session: Session, name_or_id: str, *, actor: Actor | None = None) -> ApiKey:
    """Revoke a key by id (all digits) or name; revoking a revoked key changes nothing."""
    if name_or_id.isdigit():
        key = session.get(ApiKey, int(name_or_id))
        if key is None:
            raise NotFound(f"no key with id {name_or_id}")
    else:
        key = session.exec(select(ApiKey).where(ApiKey.name == name_or_id)).first()
        if key is None:
            raise NotFound(f"no key named {name_or_id!r}")
    if key.revoked_at is None:
        before = public(key)
        key.revoked_at = utcnow()
        session.add(key)
        audit.record(
            session, actor or Actor.system("cli"), "key.revoke", "key", key.id, before, public(key)
        )
        session.commit()
    return key


def authenticate(session: Session, secret: str) -> ApiKey:
    key = session.exec(select(ApiKey).where(ApiKey.key_hash == hash_key(secret))).first()
    if key is None:
        raise Unauthorized("the key is not valid")
    if key.revoked_at is not None:
        raise Unauthorized("the key has been revoked")
    return key


def is_stale(key: ApiKey) -> bool:
    """Whether `last_used_at` is worth a write: at most one per key per interval, so
    authentication stays a read."""
    return key.last_used_at is None or utcnow() - key.last_used_at > LAST_USED_PRECISION


def mark_used(session: Session, key_id: int | None) -> None:
    session.execute(update(ApiKey).where(col(ApiKey.id) == key_id).values(last_used_at=utcnow()))
    session.commit()

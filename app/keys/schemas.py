from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel

from app.models import ApiKey, Role


@dataclass(frozen=True)
class Actor:
    """Who is writing: the key behind an HTTP call, or the command line."""

    key_id: int | None
    name: str
    role: Role
    forces: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def system(cls, name: str) -> "Actor":
        return cls(key_id=None, name=name, role=Role.ADMIN)

    @classmethod
    def of(cls, key: ApiKey) -> "Actor":
        return cls(key_id=key.id, name=key.name, role=Role(key.role), forces=frozenset(key.forces))

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def may_access(self, force_id: str) -> bool:
        return self.is_admin or force_id in self.forces


class KeyPublic(BaseModel):
    """A key as listed and audited: never the key itself, nor its hash."""

    id: int
    name: str
    role: Role
    forces: list[str]
    key_prefix: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

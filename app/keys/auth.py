"""FastAPI dependencies that turn `Authorization: Bearer <key>` into an Actor."""

from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.db import new_session
from app.errors import Forbidden, Unauthorized
from app.keys import service
from app.keys.schemas import Actor

bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer foilog_…`")


def current_actor(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor:
    if credentials is None:
        raise Unauthorized("an API key is needed: send `Authorization: Bearer <key>`")
    # Sessions of its own, closed at once: the route's session may be a write transaction.
    with new_session() as session:
        key = service.authenticate(session, credentials.credentials)
    if service.is_stale(key):
        with new_session(write=True) as session:
            service.mark_used(session, key.id)
    return Actor.of(key)


def require_admin(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
    if not actor.is_admin:
        raise Forbidden("only an admin key may do this")
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]
AdminActor = Annotated[Actor, Depends(require_admin)]

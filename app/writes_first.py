"""A write request goes before the public reads of every process serving the database, from
its first byte to its last (`app.read_turns`): while it runs, no read starts its turn, so each
of its hand-offs between the event loop and a thread finds both free. Held only inside the
route (its session), a publication under read load waited for the reads the loop ran between
those hand-offs: on SQLite, where quick reads run on the loop, 70-78 ms at the median against
25 of its own. The write's lease (`read_turns.WRITE_LEASE_S`) still bounds the pause: a long
upload lets reads start again."""

from starlette.types import ASGIApp, Receive, Scope, Send

from app import db

SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


class WritesFirst:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE:
            await self.app(scope, receive, send)
            return
        with db.read_turns().write():
            await self.app(scope, receive, send)

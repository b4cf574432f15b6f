"""HEAD for every GET route (RFC 9110 §9.3.2): the GET's answer without its content.

Routes are declared for GET alone, as the API documents them. A HEAD request runs the GET
route, and its content is dropped here while its status and headers (Content-Type, ETag,
Content-Length where the GET sends one) go out as they are: a link checker or a mirror asking
whether a page changed gets the GET's answer, and a conditional HEAD its 304."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_content(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_content)

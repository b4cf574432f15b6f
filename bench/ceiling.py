"""The framework ceiling: a bare FastAPI app answering one fixed body.

Served with the uvicorn settings of `foilog serve` (bench/run.py starts it), with no database,
middleware or serialisation, it is the fastest any foilog route could answer on this machine.
The body has BENCH_CEILING_BYTES bytes, set to the size of the answer it is compared with.
Like foilog's routes, the endpoint is a plain `def`, so it runs in the same thread pool.
"""

import os

from fastapi import FastAPI
from starlette.responses import Response

PATH = "/ceiling"


def _body(size: int) -> bytes:
    frame = b'{"items":"",' + b'"next_cursor":null}'
    return frame[:10] + b"x" * max(size - len(frame), 0) + frame[10:]


BODY = _body(int(os.environ.get("BENCH_CEILING_BYTES", "1024")))

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.get(PATH)
def ceiling() -> Response:
    return Response(BODY, media_type="application/json")

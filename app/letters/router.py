from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from app.config import get_settings
from app.errors import Forbidden, InvalidInput
from app.keys.auth import CurrentActor
from app.letters import reading, service
from app.letters.schemas import Extraction
from app.problems import PROBLEMS

router = APIRouter(tags=["letters (key needed)"])

_LETTER = {"schema": {"type": "string", "format": "binary"}}


async def _letter(request: Request) -> tuple[bytes, str]:
    """The letter's bytes and declared type: the body itself, or a multipart `file` part."""
    media_type = request.headers.get("content-type", "")
    if media_type.split(";")[0].strip().lower() != "multipart/form-data":
        return await request.body(), media_type
    try:
        form = await request.form(max_files=1, max_fields=10)
    except Exception as exc:  # the multipart parser's errors name no common base
        raise InvalidInput(
            "the multipart body could not be read",
            errors=[{"loc": ["body"], "msg": str(exc)[:200] or type(exc).__name__}],
        ) from None
    try:
        part = form.get("file")
        if part is None or isinstance(part, str):
            raise InvalidInput(
                "a multipart body needs a `file` part holding the letter",
                errors=[{"loc": ["body", "file"], "msg": "missing"}],
            )
        return await part.read(), part.content_type or ""
    finally:
        await form.close()


@router.post(
    "/v1/letters/extract",
    response_model=Extraction,
    responses=PROBLEMS(401, 403, 404, 413, 415),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                reading.PDF_MEDIA_TYPE: _LETTER,
                reading.DOCX_MEDIA_TYPE: _LETTER,
                "text/html": {"schema": {"type": "string"}},
                "text/plain": {"schema": {"type": "string"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": _LETTER},
                        "required": ["file"],
                    }
                },
            },
        }
    },
)
async def extract(
    request: Request,
    actor: CurrentActor,
    force: Annotated[str, Query(min_length=1, max_length=64, description="the force's id")],
) -> Extraction:
    """Read a response letter (PDF, DOCX, HTML or text) into a draft entry; nothing is stored."""
    service.force_of(force)
    if not actor.may_access(force):
        raise Forbidden(f"the key may not write for the force {force!r}")
    data, media_type = await _letter(request)
    # Parsing a PDF takes CPU for a while: off the event loop.
    return await run_in_threadpool(
        service.extract,
        data,
        media_type=media_type,
        force=force,
        max_bytes=get_settings().max_letter_bytes,
    )

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Query, Request, Response, UploadFile
from starlette.responses import StreamingResponse

from app.attachments import files, service
from app.attachments.schemas import AttachmentInternal, RequestAttachments
from app.config import get_settings
from app.db import ReadSession, WriteSession, utcnow
from app.errors import InvalidInput
from app.etags import matches
from app.keys.auth import CurrentActor
from app.params import PRIVATE, Acknowledge, IfMatch, ResourceId
from app.problems import PROBLEMS

router = APIRouter(tags=["attachments"])

# Kinds a browser shows itself are sent inline, the rest as downloads. Whatever a browser
# renders runs no script and fetches nothing: `sandbox` where the kind allows it (browsers'
# PDF viewers refuse to run sandboxed, so PDFs get the other restrictions only).
INLINE = {files.PDF, files.PNG, files.JPEG, files.TXT}
LOCKED_DOWN = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
CSP = {files.PDF: f"{LOCKED_DOWN}; object-src 'self'"}
SANDBOXED = f"{LOCKED_DOWN}; sandbox"
# Kinds already compressed inside (or images, which GZipMiddleware skips itself).
COMPRESSED = (files.PDF, files.DOCX, files.XLSX, files.ODT, files.ODS)


def content_disposition(disposition: str, filename: str) -> str:
    """RFC 6266: an ASCII `filename` for old clients, the real name in `filename*`."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename
    )
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


async def one_file(request: Request) -> None:
    """A body of several `file` parts is refused, as the letters endpoint refuses it: FastAPI
    would keep the last and drop the rest unsaid. The form is FastAPI's, parsed already."""
    form = await request.form()
    if len(form.getlist("file")) > 1:
        detail = "a multipart body holds one `file` part: send each attachment on its own"
        raise InvalidInput(detail, errors=[{"loc": ["body", "file"], "msg": detail}])


@router.post(
    "/v1/responses/{response_id}/attachments",
    status_code=201,
    response_model=AttachmentInternal,
    responses=PROBLEMS(400, 401, 403, 404, 410, 413, 415),
    dependencies=[Depends(one_file)],
)
def upload(
    response_id: ResourceId,
    file: Annotated[
        UploadFile, File(description="PDF, DOCX, XLSX, ODT, ODS, CSV, TXT, PNG or JPEG")
    ],
    session: WriteSession,
    actor: CurrentActor,
    http_response: Response,
    acknowledge_privacy_warning: Acknowledge = False,
) -> AttachmentInternal:
    """Attach a document the response released; its type is checked from its bytes."""
    # The body has arrived (spooled to disk past 1 MB) before this runs, and the file is
    # inspected before the session's first query: no connection waits on either.
    inspected = files.inspect(
        file.file,
        filename=file.filename,
        content_type=file.content_type,
        max_bytes=get_settings().max_attachment_bytes,
    )
    attachment = service.add(
        session,
        response_id,
        inspected,
        file.file,
        actor=actor,
        acknowledge_privacy_warning=acknowledge_privacy_warning,
    )
    http_response.headers.update({"Location": f"/v1/attachments/{attachment.id}", **PRIVATE})
    return service.internal(attachment)


@router.delete(
    "/v1/attachments/{attachment_id}",
    status_code=204,
    response_class=Response,
    responses=PROBLEMS(401, 403, 404, 410, 412),
)
def remove(
    attachment_id: ResourceId,
    session: WriteSession,
    actor: CurrentActor,
    if_match: IfMatch = None,
) -> Response:
    """Remove an attachment; from a published entry, that is a change to the entry. With
    `If-Match` (the download's ETag), only if the bytes are those."""
    service.remove(session, attachment_id, actor=actor, if_match=if_match)
    return Response(status_code=204)


@router.get(
    "/v1/attachments",
    response_model=RequestAttachments,
    responses=PROBLEMS(401, 403, 404),
)
def of_request(
    session: ReadSession,
    actor: CurrentActor,
    http_response: Response,
    force: Annotated[str, Query(max_length=64)],
    reference: Annotated[str, Query(min_length=1, max_length=100)],
) -> RequestAttachments:
    """The attachments of the request with this reference, response by response."""
    http_response.headers.update(PRIVATE)
    return service.of_request(session, force, reference, actor=actor)


@router.get(
    "/v1/attachments/{attachment_id}",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "the file's bytes, as the type found in them",
            "content": {
                kind: {"schema": {"type": "string", "format": "binary"}} for kind in files.KINDS
            },
        },
        304: {"description": "the client's copy (If-None-Match) is current"},
        **PROBLEMS(404, 410),
    },
)
def download(attachment_id: ResourceId, request: Request) -> Response:
    """The bytes of an attachment of a public entry; 404 before it is published, 410 after
    it is withdrawn."""
    found = service.find_public(attachment_id, utcnow())
    disposition = "inline" if found.media_type in INLINE else "attachment"
    headers = {
        "ETag": service.etag(found.sha256),
        "Cache-Control": f"public, max-age={get_settings().cache_max_age}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": CSP.get(found.media_type, SANDBOXED),
    }
    if matches(request.headers.get("if-none-match"), headers["ETag"]):
        return Response(status_code=304, headers=headers)
    media_type = found.media_type
    if media_type in (files.TXT, files.CSV):
        media_type += "; charset=utf-8"
    headers["Content-Disposition"] = content_disposition(disposition, found.filename)
    if found.size <= files.CHUNK:
        # Read before answering, so GZipMiddleware sees the length (a few bytes are not worth
        # compressing) and a file removed meanwhile is a 404, not a short body.
        return Response(service.whole(found), media_type=media_type, headers=headers)
    headers["Content-Length"] = str(found.size)
    return StreamingResponse(service.stream(found), media_type=media_type, headers=headers)

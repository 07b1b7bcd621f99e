"""The evidence upload and download routes (E1), as a router any service mounts next to the records that cite the
documents. The service decides who may upload (`authorize_upload`), records who did (`record_upload`, in the
upload's unit of work, once the bytes are kept) and which document a caller may read and under
which name (`describe`: the EvidenceRef its own record keeps, or None); this router only streams.

An upload is staged whole before anything is kept (`streamed_body(staged=True)`, issue #14): under a unit of work it
takes its database connection, and claims its Idempotency-Key, only then, so a slow client holds none while it
sends. `authorize_upload` runs before the body arrives, so it reads in a session of its own (`uow.brief_session`),
never the request's.

POST {prefix}?name=…  the raw body, Content-Type the document's media type → 201 (new bytes) or 200 (kept already)
                      with the EvidenceRef and `created`
GET  {prefix}/{sha256} the bytes, verified against their hash, with the record's media type and name
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from fastapi.routing import APIRoute
from starlette.background import BackgroundTask

from services.kernel.evidence import (
    SHA256_PATTERN,
    EvidenceRef,
    EvidenceStore,
    StoredEvidence,
    check_key,
    not_found,
)
from services.kernel.evidence_policy import DOCUMENT_TYPES, drain, too_large
from services.kernel.uow import body_staged, streamed_body

Describe = Callable[[Request, str], Awaitable[EvidenceRef | None]]
AuthorizeUpload = Callable[[Request], Awaitable[None]]
RecordUpload = Callable[[Request, StoredEvidence], Awaitable[None]]


def content_disposition(name: str) -> str:
    """RFC 6266: an ASCII fallback for old clients, and the name itself as RFC 8187 UTF-8 (Chinese names)."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\%' else "_" for c in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _upload_openapi() -> dict[str, Any]:
    binary = {"schema": {"type": "string", "format": "binary"}}
    body = {"required": True, "content": dict.fromkeys(DOCUMENT_TYPES, binary)}
    return {**streamed_body(staged=True), "requestBody": body}


def _declared_length(request: Request) -> int | None:
    value = request.headers.get("content-length", "")
    return int(value) if value.isascii() and value.isdigit() else None


def evidence_router(
    store: EvidenceStore,
    *,
    describe: Describe,
    authorize_upload: AuthorizeUpload | None = None,
    record_upload: RecordUpload | None = None,
    prefix: str = "/evidence",
    route_class: type[APIRoute] = APIRoute,
    **kwargs: Any,
) -> APIRouter:
    router = APIRouter(prefix=prefix, route_class=route_class, **kwargs)

    @router.post("", response_model=StoredEvidence, status_code=201, openapi_extra=_upload_openapi())
    async def upload_evidence(
        request: Request,
        response: Response,
        name: Annotated[str | None, Query(description="the document's file name, 1-255 characters")] = None,
    ) -> StoredEvidence:
        """Stream one document in; the Content-Type is its media type, checked against its bytes."""
        chunks = request.stream()
        declared = _declared_length(request)
        if authorize_upload is not None:
            try:
                await authorize_upload(request)
            except Exception:
                await drain(chunks)
                raise
        if declared is not None and declared > store.max_bytes:
            await drain(chunks)
            raise too_large(store.max_bytes)
        stored = await store.put(chunks, name=name or "", media_type=request.headers.get("content-type"),
                                 before_keeping=lambda: body_staged(request))
        if record_upload is not None:
            # in the upload's unit of work, whose transaction began once the body was whole (`body_staged`)
            await record_upload(request, stored)
        if not stored.created:
            response.status_code = 200
        return stored

    @router.get("/{sha256}", response_class=StreamingResponse, responses={200: {"content": {"*/*": {}}}})
    async def download_evidence(
        sha256: Annotated[str, Path(pattern=SHA256_PATTERN, description="SHA-256 of the document, lower-case hex")],
        request: Request,
    ) -> StreamingResponse:
        """The document's bytes, only once they were found to hash to `sha256`."""
        check_key(sha256)
        ref = await describe(request, sha256)
        if ref is None or ref.sha256 != sha256:
            raise not_found(sha256)
        async with AsyncExitStack() as guard:
            document = await guard.enter_async_context(store.open(sha256))
            stack = guard.pop_all()

        async def body() -> AsyncIterator[bytes]:
            async with stack:
                async for chunk in document.chunks():
                    yield chunk

        headers = {
            "content-length": str(document.size),
            "content-disposition": content_disposition(ref.name),
            "x-content-type-options": "nosniff",
            "etag": f'"{sha256}"',
        }
        return StreamingResponse(body(), media_type=ref.media_type, headers=headers,
                                 background=BackgroundTask(stack.aclose))

    return router

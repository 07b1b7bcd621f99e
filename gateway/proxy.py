"""Forwarding to a service: the caller's identity signed, the body passed on (streamed for large uploads)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from starlette.types import Receive

from services.kernel.errors import PAYLOAD_TOO_LARGE, ServiceUnavailable, ValidationProblem
from services.kernel.http import signed_headers
from services.kernel.identity import Principal

MAX_BODY_BYTES = 10 * 1024 * 1024
# A streamed upload (a million-line household import) is answered only after the service has merged it.
STREAMED_READ_TIMEOUT = httpx.Timeout(30.0, connect=5.0, read=900.0)
FORWARDED_REQUEST_HEADERS = ("content-type", "accept", "idempotency-key")
FORWARDED_RESPONSE_HEADERS = ("content-type", "idempotent-replayed", "content-disposition")


class TooLarge(ValidationProblem):
    status = 413
    code = PAYLOAD_TOO_LARGE
    title = "Body too large"


async def read_body(receive: Receive, limit: int = MAX_BODY_BYTES) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"请求体超过 {limit} 字节 / the body is larger than {limit} bytes", field="body")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def stream_body(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


async def forward(
    client: httpx.AsyncClient,
    *,
    service: str,
    method: str,
    path: str,
    query: str,
    headers: dict[str, str],
    receive: Receive,
    streamed: bool,
    principal: Principal,
    request_id: str,
) -> httpx.Response:
    content: bytes | AsyncIterator[bytes] = stream_body(receive) if streamed else await read_body(receive)
    out_headers = {k: headers[k] for k in FORWARDED_REQUEST_HEADERS if k in headers}
    request = client.build_request(method, path + (f"?{query}" if query else ""), content=content, headers=out_headers)
    request.headers.update(signed_headers(method, request.url, principal, request_id))
    if streamed:
        request.extensions["timeout"] = STREAMED_READ_TIMEOUT.as_dict()
    try:
        response = await client.send(request)
        await response.aread()
    except httpx.ConnectError as exc:
        raise ServiceUnavailable(
            f"{service} 服务不可用 / the {service} service is not reachable; the request did not reach it",
            service=service,
        ) from exc
    except httpx.HTTPError as exc:
        raise ServiceUnavailable(
            f"{service} 服务未及时应答 / the {service} service did not answer ({type(exc).__name__}): whether the "
            "request took effect is unknown; retry with the same Idempotency-Key to get its outcome",
            service=service,
        ) from exc
    return response

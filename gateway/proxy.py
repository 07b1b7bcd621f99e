"""Forwarding to a service: the caller's identity signed, the body passed on (streamed for large uploads)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import quote

import aiohttp
from multidict import CIMultiDictProxy
from starlette.types import Receive
from yarl import URL

from services.kernel.errors import PAYLOAD_TOO_LARGE, ServiceUnavailable, ValidationProblem
from services.kernel.http import KEEPALIVE_SECONDS
from services.kernel.identity import STREAMED_BODY, Principal, body_digest, sign
from services.kernel.settings import get_settings

MAX_BODY_BYTES = 10 * 1024 * 1024
SAFE_PATH_CHARACTERS = "/:@!$&'()*+,;=-._~"
# A streamed upload (a million-line household import) is answered only after the service has merged it.
STREAMED_READ_TIMEOUT = aiohttp.ClientTimeout(total=None, connect=5.0, sock_read=900.0)
DEFAULT_TIMEOUT = aiohttp.ClientTimeout(total=None, connect=5.0, sock_read=30.0)
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


@dataclass
class Forwarded:
    """A service's answer, read whole (service answers are small; uploads stream the other way)."""

    status_code: int
    headers: CIMultiDictProxy[str]
    content: bytes


def proxy_session() -> aiohttp.ClientSession:
    """The door's own connection pool to the services.

    The proxy hop uses aiohttp, the transport our httpx clients run on, directly: httpx's request and response
    models cost as much CPU again as the transport itself on a path every request takes (a profile of the gateway
    under 16 clients: httpx 22%, aiohttp 20% of its CPU). Calls between services keep httpx (kernel/http.py)."""
    connector = aiohttp.TCPConnector(limit=200, keepalive_timeout=KEEPALIVE_SECONDS)
    return aiohttp.ClientSession(connector=connector, timeout=DEFAULT_TIMEOUT, auto_decompress=False,
                                 skip_auto_headers=("User-Agent",))


async def forward(
    session: aiohttp.ClientSession,
    *,
    base_url: str,
    service: str,
    method: str,
    path: str,
    raw_path: str | None,
    query: str,
    headers: dict[str, str],
    receive: Receive,
    streamed: bool,
    principal: Principal,
    request_id: str,
) -> Forwarded:
    """Send the request on with the caller's identity signed (over the decoded path, as the service reads it; the
    path itself travels as the client encoded it) with a fresh nonce and the body's digest (S5). A streamed body is
    signed as STREAMED_BODY: it is sent before it is known; the service takes that on streamed routes only."""
    content: bytes | AsyncIterator[bytes] = stream_body(receive) if streamed else await read_body(receive)
    digest = STREAMED_BODY if isinstance(content, AsyncIterator) else body_digest(content)
    out_headers = {k: headers[k] for k in FORWARDED_REQUEST_HEADERS if k in headers}
    out_headers.update(sign(get_settings().service_secret, method=method, path=path, query=query,
                            request_id=request_id, principal=principal, body_sha256=digest))
    # encoded=True: the service sees exactly the path and query that were signed, not a re-quoted form.
    sent_path = raw_path if raw_path is not None else quote(path, safe=SAFE_PATH_CHARACTERS)
    url = URL(base_url + sent_path + (f"?{query}" if query else ""), encoded=True)
    try:
        async with session.request(method, url, data=content, headers=out_headers,
                                   timeout=STREAMED_READ_TIMEOUT if streamed else DEFAULT_TIMEOUT) as response:
            body = await response.read()
            return Forwarded(response.status, response.headers, body)
    except aiohttp.ClientConnectorError as exc:
        raise ServiceUnavailable(
            f"{service} 服务不可用 / the {service} service is not reachable; the request did not reach it",
            service=service,
        ) from exc
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise ServiceUnavailable(
            f"{service} 服务未及时应答 / the {service} service did not answer ({type(exc).__name__}): whether the "
            "request took effect is unknown; retry with the same Idempotency-Key to get its outcome",
            service=service,
        ) from exc

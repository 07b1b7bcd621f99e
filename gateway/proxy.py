"""Forwarding to a service: the caller's identity signed, the body passed on (streamed for large uploads)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import quote

import aiohttp
from multidict import CIMultiDictProxy
from starlette.types import Message, Receive
from yarl import URL

from services.kernel.errors import (
    PAYLOAD_TOO_LARGE,
    REQUEST_BODY_INCOMPLETE,
    REQUEST_BODY_TIMEOUT,
    Problem,
    ServiceUnavailable,
    ValidationProblem,
)
from services.kernel.http import KEEPALIVE_SECONDS
from services.kernel.identity import STREAMED_BODY, Principal, body_digest, sign
from services.kernel.settings import get_settings

MAX_BODY_BYTES = 10 * 1024 * 1024
SAFE_PATH_CHARACTERS = "/:@!$&'()*+,;=-._~"
# A streamed upload (a million-line household import) is answered only after the service has merged it.
STREAMED_READ_TIMEOUT = aiohttp.ClientTimeout(total=None, connect=5.0, sock_read=900.0)
DEFAULT_TIMEOUT = aiohttp.ClientTimeout(total=None, connect=5.0, sock_read=30.0)
FORWARDED_REQUEST_HEADERS = ("content-type", "accept", "idempotency-key")
# A streamed upload's declared length, passed on beside the body (services/registry/progress.py reads it)
UPLOAD_LENGTH = "x-fundtrack-upload-length"
# etag and nosniff: an evidence document (E1) is named by its hash and never sniffed into another type
FORWARDED_RESPONSE_HEADERS = (
    "content-type", "idempotent-replayed", "content-disposition", "etag", "x-content-type-options",
)


class TooLarge(ValidationProblem):
    status = 413
    code = PAYLOAD_TOO_LARGE
    title = "Body too large"


def too_large(limit: int) -> TooLarge:
    """A body over its route's limit (gateway/policy.py), with the limit, so a client can split its request."""
    return TooLarge(f"请求体超过 {limit} 字节 / the body is larger than this route takes ({limit} bytes); nothing was "
                    "done", field="body", limit_bytes=limit)


class BodyTimeout(Problem):
    status = 408
    code = REQUEST_BODY_TIMEOUT
    title = "Request body too slow"


class BodyIncomplete(Problem):
    status = 400
    code = REQUEST_BODY_INCOMPLETE
    title = "Request body incomplete"


class BodyPace:
    """S12: a request body must arrive whole within `limit` seconds, and, once `grace` seconds have passed, at
    `min_rate` bytes a second on average at least: a client that trickles an import would otherwise hold the
    service's transaction (and its locks) open for as long as it likes. The body ends with a clean end only when the
    client sent it whole; a client gone or too slow fails the read (and so the upstream request is aborted)."""

    def __init__(self, *, limit: float, min_rate: int, grace: float, max_bytes: int | None = None) -> None:
        self.limit, self.min_rate, self.grace = limit, min_rate, grace
        self.max_bytes = max_bytes  # the route's body limit: a body passing it fails the read (413)
        self.started = time.monotonic()
        self.received = 0
        self.failure: Problem | None = None

    @classmethod
    def from_settings(cls, max_bytes: int | None = None) -> BodyPace:
        settings = get_settings()
        return cls(limit=settings.body_timeout_seconds, min_rate=settings.body_min_bytes_per_second,
                   grace=settings.body_grace_seconds, max_bytes=max_bytes)

    def _seconds_left(self) -> float:
        deadline = self.started + self.limit
        if self.min_rate:
            deadline = min(deadline, self.started + self.grace + self.received / self.min_rate)
        return deadline - time.monotonic()

    def _fail(self, problem: Problem) -> Problem:
        self.failure = problem
        return problem

    async def receive(self, receive: Receive) -> Message:
        try:
            async with asyncio.timeout(max(self._seconds_left(), 0.0)):  # no task per message, unlike wait_for
                message = await receive()
        except TimeoutError:
            raise self._fail(BodyTimeout(
                f"请求体未在时限内送达 / the body did not arrive within {self.limit:g} s at {self.min_rate} bytes/s or "
                f"more ({self.received} bytes in {time.monotonic() - self.started:.1f} s); nothing was done",
                field="body",
            )) from None
        if message["type"] == "http.disconnect":
            raise self._fail(BodyIncomplete(
                "客户端在请求体结束前断开 / the client went away before the end of the body; nothing was done",
                field="body",
            ))
        self.received += len(message.get("body", b""))
        if self.max_bytes is not None and self.received > self.max_bytes:
            raise self._fail(too_large(self.max_bytes))  # a chunked body, refused as it passes the limit
        return message


async def read_body(receive: Receive, limit: int = MAX_BODY_BYTES, pace: BodyPace | None = None) -> bytes:
    pace = pace or BodyPace.from_settings()
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await pace.receive(receive)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def stream_body(receive: Receive, pace: BodyPace) -> AsyncIterator[bytes]:
    """The body as it arrives. A client gone or too slow raises here, so aiohttp aborts the upstream request
    instead of ending its body cleanly: the service never commits a cut-off body as if it were whole."""
    while True:
        message = await pace.receive(receive)
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
    max_body: int,
    principal: Principal,
    request_id: str,
) -> Forwarded:
    """Send the request on with the caller's identity signed (over the decoded path, as the service reads it; the
    path itself travels as the client encoded it) with a fresh nonce and the body's digest (S5). A streamed body is
    signed as STREAMED_BODY: it is sent before it is known; the service takes that on streamed routes only."""
    pace = BodyPace.from_settings(max_bytes=max_body)
    content: bytes | AsyncIterator[bytes] = (
        stream_body(receive, pace) if streamed else await read_body(receive, pace=pace)
    )
    digest = STREAMED_BODY if isinstance(content, AsyncIterator) else body_digest(content)
    out_headers = {k: headers[k] for k in FORWARDED_REQUEST_HEADERS if k in headers}
    if streamed and "content-length" in headers:  # this hop streams it chunked: its length for the progress (#19)
        out_headers[UPLOAD_LENGTH] = headers["content-length"]
    out_headers.update(sign(get_settings().service_secret, method=method, path=path, query=query,
                            request_id=request_id, principal=principal, body_sha256=digest, audience=service))
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
        if pace.failure is not None:  # the client's body failed, not the service: the upstream request was aborted
            raise pace.failure from exc
        raise ServiceUnavailable(
            f"{service} 服务未及时应答 / the {service} service did not answer ({type(exc).__name__}): whether the "
            "request took effect is unknown; retry with the same Idempotency-Key to get its outcome",
            service=service,
        ) from exc

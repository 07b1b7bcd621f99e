"""ASGI middleware of every service: refuse what the gateway did not sign, and carry the request id.

S5: the signature covers a digest of the body, so the body is read here whole (the gateway caps it at 10 MiB; the
unit of work reads it whole anyway) and compared before the app sees it; the app is then given the same bytes. A
body signed as streamed is passed on as it comes, and the route must be a streamed one (uow.py checks). The nonce is
kept in the request's state for the unit of work, which refuses a state-changing request whose nonce was seen."""

from __future__ import annotations

import json
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.kernel.context import new_request_id, request_id_var
from services.kernel.errors import BODY_DIGEST_MISMATCH, PROBLEM_JSON, UNAUTHORIZED, problem_body
from services.kernel.identity import (
    BODY_DIGEST_HEADER,
    NONCE_HEADER,
    PRINCIPAL_HEADER,
    REQUEST_ID_HEADER,
    SIGNATURE_HEADER,
    STREAMED_BODY,
    TIMESTAMP_HEADER,
    SignatureError,
    body_digest,
    verify,
)
from services.kernel.settings import get_settings

log = logging.getLogger("fundtrack.identity")
UNSIGNED_PATHS = frozenset({"/healthz", "/readyz"})


class SignedIdentityMiddleware:
    def __init__(self, app: ASGIApp, *, audience: str) -> None:
        self.app = app
        self.audience = audience  # this service's name: a request signed for another is refused (S5)
        settings = get_settings()
        self.secret = settings.service_secret
        self.ttl = settings.signature_ttl_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        request_id = headers.get(REQUEST_ID_HEADER) or new_request_id()
        token = request_id_var.set(request_id)
        try:
            if scope["path"] not in UNSIGNED_PATHS:
                try:
                    verified = verify(
                        self.secret,
                        ttl_seconds=self.ttl,
                        method=scope["method"],
                        path=scope["path"],
                        query=scope.get("query_string", b"").decode("latin-1"),
                        request_id=request_id,
                        principal_header=headers.get(PRINCIPAL_HEADER),
                        timestamp_header=headers.get(TIMESTAMP_HEADER),
                        signature_header=headers.get(SIGNATURE_HEADER),
                        nonce_header=headers.get(NONCE_HEADER),
                        body_digest_header=headers.get(BODY_DIGEST_HEADER),
                        audience=self.audience,
                    )
                except SignatureError as exc:
                    log.warning("refused an unsigned or badly signed request: %s", exc)
                    await _refuse(send, str(exc), scope["path"], request_id)
                    return
                if verified.body_sha256 != STREAMED_BODY:
                    body = await _read_all(receive)
                    if body_digest(body) != verified.body_sha256:
                        log.warning("refused a signed request whose body is not the one signed")
                        reason = "请求体与签名不符 / the body is not the one the gateway signed"
                        await _refuse(send, reason, scope["path"], request_id, code=BODY_DIGEST_MISMATCH)
                        return
                    receive = _replay(body, receive)
                state = scope.setdefault("state", {})
                state["principal"] = verified.principal
                state["signed_nonce"] = verified.nonce
                state["signed_at"] = verified.signed_at
                state["signed_body_sha256"] = verified.body_sha256
            scope.setdefault("state", {})["request_id"] = request_id

            async def send_with_request_id(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message.setdefault("headers", [])
                    message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode("latin-1"))]
                await send(message)

            await self.app(scope, receive, send_with_request_id)
        finally:
            request_id_var.reset(token)


async def _read_all(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, given to the app as one message; then the connection's own messages (disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


async def _refuse(send: Send, reason: str, path: str, request_id: str, *, code: str = UNAUTHORIZED) -> None:
    body = problem_body(
        status=401,
        code=code,
        title="Unsigned request",
        detail=f"未经网关签名的请求被拒绝 / refused: {reason}",
        instance=path,
    )
    payload = json.dumps(body, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(payload)).encode()),
                (b"x-request-id", request_id.encode("latin-1")),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})

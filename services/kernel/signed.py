"""ASGI middleware of every service: refuse what the gateway did not sign, and carry the request id."""

from __future__ import annotations

import json
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.kernel.context import new_request_id, request_id_var
from services.kernel.errors import PROBLEM_JSON, UNAUTHORIZED, problem_body
from services.kernel.identity import (
    PRINCIPAL_HEADER,
    REQUEST_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureError,
    verify,
)
from services.kernel.settings import get_settings

log = logging.getLogger("fundtrack.identity")
UNSIGNED_PATHS = frozenset({"/healthz"})


class SignedIdentityMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
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
                    principal = verify(
                        self.secret,
                        ttl_seconds=self.ttl,
                        method=scope["method"],
                        path=scope["path"],
                        query=scope.get("query_string", b"").decode("latin-1"),
                        request_id=request_id,
                        principal_header=headers.get(PRINCIPAL_HEADER),
                        timestamp_header=headers.get(TIMESTAMP_HEADER),
                        signature_header=headers.get(SIGNATURE_HEADER),
                    )
                except SignatureError as exc:
                    log.warning("refused an unsigned or badly signed request: %s", exc)
                    await _refuse(send, str(exc), scope["path"], request_id)
                    return
                scope.setdefault("state", {})["principal"] = principal
            scope.setdefault("state", {})["request_id"] = request_id

            async def send_with_request_id(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message.setdefault("headers", [])
                    message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode("latin-1"))]
                await send(message)

            await self.app(scope, receive, send_with_request_id)
        finally:
            request_id_var.reset(token)


async def _refuse(send: Send, reason: str, path: str, request_id: str) -> None:
    body = problem_body(
        status=401,
        code=UNAUTHORIZED,
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

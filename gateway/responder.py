"""The door's hold on a response: nothing leaves before the request's audit entry is written (A1). A body past
BUFFER_LIMIT is streamed after the entry; if the entry cannot be written the answer is a 503 instead."""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.types import Message, Send

from gateway.audit import AuditUnavailable, AuditWriter
from gateway.exchange import Exchange
from services.kernel.errors import PROBLEM_JSON, SERVICE_UNAVAILABLE, problem_body

log = logging.getLogger("fundtrack.door")
BUFFER_LIMIT = 256 * 1024


class Responder:
    """Holds the response until its audit entry is written (bodies past BUFFER_LIMIT are streamed after it)."""

    def __init__(self, send: Send, ex: Exchange, writer: AuditWriter) -> None:
        self._send = send
        self.ex = ex
        self.writer = writer
        self._start: Message | None = None
        self._body: list[bytes] = []
        self._size = 0
        self._recorded = False
        self._started = False
        self._done = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self._start = message
            self.ex.status = int(message["status"])
            return
        if message["type"] != "http.response.body":
            await self._send(message)
            return
        chunk = message.get("body", b"")
        more = bool(message.get("more_body", False))
        if self._recorded:
            await self._send(message)
            self._done = not more
            return
        self._body.append(chunk)
        self._size += len(chunk)
        if more and self._size < BUFFER_LIMIT:
            return
        await self._flush(more_body=more)

    async def _flush(self, *, more_body: bool) -> None:
        body = b"".join(self._body)
        self._learn(body)
        assert self._start is not None
        start = self._start
        if not await self._record():
            body = _audit_unavailable_body(self.ex.method, int(start.get("status", 500)))
            start = {
                "type": "http.response.start",
                "status": 503,
                "headers": [(b"content-type", PROBLEM_JSON.encode())],
            }
            more_body = False
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() not in (b"content-length", b"x-request-id")]
        headers.append((b"x-request-id", self.ex.request_id.encode()))
        if not more_body:
            headers.append((b"content-length", str(len(body)).encode()))
        await self._send({**start, "headers": headers})
        self._started = True
        await self._send({"type": "http.response.body", "body": body, "more_body": more_body})
        self._done = not more_body

    def _learn(self, body: bytes) -> None:
        headers = dict(self._start.get("headers", [])) if self._start else {}
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        if not body or "json" not in content_type or len(body) > BUFFER_LIMIT:
            return
        try:
            decoded = json.loads(body)
        except ValueError:
            return
        if not isinstance(decoded, dict):
            return
        if content_type.startswith(PROBLEM_JSON) and isinstance(decoded.get("code"), str):
            self.ex.code = decoded["code"]
        elif isinstance(decoded.get("id"), str | int) and 200 <= self.ex.status < 300:
            self.ex.response_id = str(decoded["id"])

    async def _record(self) -> bool:
        self._recorded = True
        if not self.ex.audited:
            return True
        try:
            await self.writer.record(self.ex.entry())
            return True
        except AuditUnavailable:
            log.critical("audit entry could not be written; refusing to answer without it")
            self.ex.status, self.ex.code = 503, SERVICE_UNAVAILABLE
            return False

    async def problem(self, body: dict[str, Any], headers: list[tuple[bytes, bytes]] | None = None) -> None:
        if self._started:
            return
        payload = json.dumps(body, ensure_ascii=False).encode()
        self.ex.code = str(body.get("code", ""))
        await self.send(
            {
                "type": "http.response.start",
                "status": int(body["status"]),
                "headers": [(b"content-type", PROBLEM_JSON.encode()), *(headers or [])],
            }
        )
        await self.send({"type": "http.response.body", "body": payload})

    async def finish(self) -> None:
        """If the app died before answering, answer 500 (recorded); if it stopped mid-body, close the body."""
        if self._start is None:
            body = problem_body(
                status=500,
                code="INTERNAL_ERROR",
                title="Internal error",
                detail="内部错误 / internal error; the request id identifies it in the logs",
            )
            await self.problem(body)
        elif not self._recorded:
            await self._flush(more_body=False)
        elif not self._done:
            await self._send({"type": "http.response.body", "body": b"", "more_body": False})


def _audit_unavailable_body(method: str, status: int) -> bytes:
    """No answer leaves without its audit entry (A1); but a failure must never hide a write that was done (issue
    #14): the answer withheld says whether the service carried the request out. A change carried out is in the
    trail all the same, through the service's own record of it (its outbox)."""
    detail = "审计记录暂不可用 / the audit trail cannot be written; no answer is given without its audit entry"
    outcome = "none"
    if method not in ("GET", "HEAD", "OPTIONS") and status < 400:
        outcome = "applied"
        detail = (
            f"请求已执行，但审计记录暂不可用 / the request WAS carried out (the service answered {status}; the change "
            "is in the trail through the service's own record), but its answer is withheld: the gateway's audit "
            "entry of the request could not be written. Send it again with the same Idempotency-Key to get the "
            "answer; without a key, do not send it again"
        )
    elif method not in ("GET", "HEAD", "OPTIONS"):
        outcome = "not_applied"
        detail += f"; the request was not carried out (the service answered {status})"
    body = problem_body(
        status=503, code=SERVICE_UNAVAILABLE, title="Audit trail unavailable", detail=detail, outcome=outcome
    )
    return json.dumps(body, ensure_ascii=False).encode()

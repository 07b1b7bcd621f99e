"""The door every public request passes: request id, authentication, role check, proxy or gateway route, and the
audit entry of the outcome (written before the answer leaves)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway import metrics
from gateway.audit import AuditUnavailable, AuditWriter
from gateway.auth import Authenticator, bearer_token
from gateway.policy import GATEWAY, Match, match
from gateway.proxy import FORWARDED_RESPONSE_HEADERS, MAX_BODY_BYTES, forward, read_body
from gateway.ratelimit import SlidingWindow, client_address
from services.kernel.context import new_request_id, request_id_var
from services.kernel.errors import (
    FORBIDDEN,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    PROBLEM_JSON,
    RATE_LIMITED,
    SERVICE_UNAVAILABLE,
    UNAUTHORIZED,
    Problem,
    ValidationProblem,
    problem_body,
)
from services.kernel.identity import Principal
from services.kernel.settings import get_settings, proxy_networks
from services.kernel.types import control_character_in, escape_control_characters

log = logging.getLogger("fundtrack.door")
PUBLIC_PRINCIPAL = Principal(id="public", role="public", region_code="000000", name="the public")
ANONYMOUS = Principal(id="anonymous", role="none", region_code="", name="no valid key")
BUFFER_LIMIT = 256 * 1024
# S14/A1: liveness, readiness and metrics probes are not business requests: an orchestrator's or a stranger's
# /healthz every second would be most of the trail. They are counted in aggregate instead, by route and status, in
# fundtrack_requests_total on /metrics. A probe of any other path (or method) is recorded as usual.
HEALTH_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})


@dataclass
class Exchange:
    """What the door learns about one request, for the audit entry and the metrics."""

    method: str
    path: str
    query: str
    request_id: str
    principal: Principal = ANONYMOUS
    route: str = "unmatched"
    params: dict[str, str] = field(default_factory=dict)
    body_digest: Any = field(default_factory=hashlib.sha256)
    status: int = 0
    code: str = ""
    response_id: str | None = None
    audited: bool = True

    def entry(self) -> dict[str, Any]:
        ids = list(self.params.values())
        if self.response_id and self.response_id not in ids:
            ids.append(self.response_id)
        # A path like /loans/%00 decodes to a NUL, which PostgreSQL text cannot hold: the entry keeps its escape, so
        # the probe is recorded and the batch it shares with other requests' entries is not refused.
        return {
            "at": datetime.now(UTC),
            "principal_id": self.principal.id,
            "role": self.principal.role,
            "region_code": self.principal.region_code,
            "method": self.method,
            "path": escape_control_characters(self.path),
            "query": escape_control_characters(self.query),
            "entity_ids": [escape_control_characters(i) for i in ids],
            "body_sha256": self.body_digest.hexdigest(),
            "status": self.status,
            "code": self.code,
            "request_id": self.request_id,
            "origin": "gateway",
            "origin_id": None,
        }


def _request_id(headers: dict[str, str]) -> str:
    given = headers.get("x-request-id", "")
    if 0 < len(given) <= 128 and given.isascii() and given.isprintable():
        return given
    return new_request_id()


class Door:
    def __init__(self, app: ASGIApp, *, state: Any) -> None:
        self.app = app
        self.state = state
        self.public_posts = SlidingWindow()
        settings = get_settings()
        self.proxies = proxy_networks(settings.trusted_proxies)
        self._client_key = hashlib.sha256(b"fundtrack-client\n" + settings.service_secret.encode()).digest()

    def _public(self, client: str) -> Principal:
        """The public, as one client: its address keyed-hashed (not stored as such) into the signed principal."""
        tag = hmac.new(self._client_key, client.encode(), hashlib.sha256).hexdigest()[:32]
        return replace(PUBLIC_PRINCIPAL, client=tag)

    @property
    def auth(self) -> Authenticator:
        auth: Authenticator = self.state.authenticator
        return auth

    @property
    def writer(self) -> AuditWriter:
        writer: AuditWriter = self.state.audit_writer
        return writer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        ex = Exchange(
            method=scope["method"],
            path=scope["path"],
            query=scope.get("query_string", b"").decode("latin-1"),
            request_id=_request_id(headers),
        )
        token = request_id_var.set(ex.request_id)

        async def hashing_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                ex.body_digest.update(message.get("body", b""))
            return message

        responder = _Responder(send, ex, self.writer)
        try:
            await self._handle(scope, hashing_receive, responder, headers, ex)
        except Problem as problem:
            await responder.problem(problem.body(ex.path))
        except Exception:
            log.exception("unhandled error at the door")  # finish() answers 500, recorded like any other answer
        finally:
            await responder.finish()
            request_id_var.reset(token)
            elapsed = time.perf_counter() - started
            metrics.observe(ex.method, ex.route, ex.status, elapsed)
            log.info(
                "request",
                extra={
                    "fields": {
                        "method": ex.method,
                        "path": ex.path,
                        "status": ex.status,
                        "code": ex.code,
                        "principal": ex.principal.id,
                        "ms": round(elapsed * 1000, 2),
                    }
                },
            )

    async def _handle(
        self, scope: Scope, receive: Receive, responder: _Responder, headers: dict[str, str], ex: Exchange
    ) -> None:
        found: Match = match(ex.method, ex.path)
        route = found.route
        principal = await self._authenticate(headers)  # even for an unknown path: the trail says who probed it
        if route is None:
            ex.principal = principal or ANONYMOUS
            await _drain(receive, headers)
            status, code = (404, NOT_FOUND) if found.method_allowed else (405, METHOD_NOT_ALLOWED)
            detail = f"没有这个地址 / no such resource: {ex.method} {ex.path}"
            await responder.problem(problem_body(status=status, code=code, title=detail, detail=detail))
            return
        ex.route, ex.params = route.template, found.params
        ex.audited = not (route.target == GATEWAY and route.template in HEALTH_ROUTES)
        if route.public:
            client = client_address(_peer(scope), headers.get("x-forwarded-for"), self.proxies)
            ex.principal = principal or self._public(client)
            if principal is None and ex.method == "POST" and not self.public_posts.allow(client):
                await _drain(receive, headers)
                detail = "提交过于频繁，请稍后再试 / too many submissions from this address; try again in a minute"
                await responder.problem(
                    problem_body(status=429, code=RATE_LIMITED, title="Too many requests", detail=detail)
                )
                return
        elif principal is None:
            await _drain(receive, headers)
            detail = "缺少或未知的 API 密钥 / missing or unknown API key: send Authorization: Bearer <key>"
            await responder.problem(
                problem_body(status=401, code=UNAUTHORIZED, title="Unauthorized", detail=detail),
                headers=[(b"www-authenticate", b"Bearer")],
            )
            return
        elif principal.role not in route.roles:
            ex.principal = principal
            await _drain(receive, headers)
            detail = (
                f"角色 {principal.role} 无权访问 / role {principal.role} may not {ex.method} {route.template}; "
                f"allowed: {', '.join(sorted(route.roles))}"
            )
            await responder.problem(problem_body(status=403, code=FORBIDDEN, title="Forbidden", detail=detail))
            return
        else:
            ex.principal = principal
        malformed = _control_character_field(ex)
        if malformed is not None:
            await _drain(receive, headers)
            raise ValidationProblem(
                f"输入无效 / invalid input: {malformed}: 含有控制字符 / contains a control character", field=malformed
            )
        if route.target == GATEWAY:
            state = scope.setdefault("state", {})
            state.update(principal=ex.principal, request_id=ex.request_id)
            await self.app(scope, receive, responder.send)
            return
        if ex.method != "GET":
            self.state.sequencer.changed(route.target)  # its audit outbox is read at the sequencer's next turn
        response = await forward(
            self.state.proxy,
            base_url=self.state.service_urls[route.target],
            service=route.target,
            method=ex.method,
            path=ex.path,
            raw_path=raw.decode("latin-1") if isinstance(raw := scope.get("raw_path"), bytes) else None,
            query=ex.query,
            headers=headers,
            receive=receive,
            streamed=route.streamed,
            principal=ex.principal,
            request_id=ex.request_id,
        )
        out = [(k.encode(), response.headers[k].encode()) for k in FORWARDED_RESPONSE_HEADERS if k in response.headers]
        await responder.send({"type": "http.response.start", "status": response.status_code, "headers": out})
        await responder.send({"type": "http.response.body", "body": response.content})

    async def _authenticate(self, headers: dict[str, str]) -> Principal | None:
        token = bearer_token(headers.get("authorization"))
        if token is None or len(token) > 512:
            return None
        return await self.auth.principal_for(token)


def _control_character_field(ex: Exchange) -> str | None:
    """The path parameter or query parameter whose decoded value holds a control character (no id, code, date or
    filter does; PostgreSQL text cannot hold a NUL), for every route, the gateway's own included."""
    for name, value in ex.params.items():
        if control_character_in(value) is not None:
            return name
    for name, value in parse_qsl(ex.query, keep_blank_values=True):
        if control_character_in(name) is not None or control_character_in(value) is not None:
            return escape_control_characters(name)
    return None


def _peer(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


async def _drain(receive: Receive, headers: dict[str, str]) -> None:
    """Read a refused request's body (if small) so its digest is in the trail."""
    try:
        if int(headers.get("content-length", "0") or 0) <= MAX_BODY_BYTES:
            await read_body(receive)
    except (ValueError, Problem):
        return


class _Responder:
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
            body = _audit_unavailable_body()
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


def _audit_unavailable_body() -> bytes:
    body = problem_body(
        status=503,
        code=SERVICE_UNAVAILABLE,
        title="Audit trail unavailable",
        detail="审计记录暂不可用 / the audit trail cannot be written; no answer is given without its audit entry",
    )
    return json.dumps(body, ensure_ascii=False).encode()

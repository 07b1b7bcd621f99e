"""The door every public request passes: request id, authentication, role check, proxy or gateway route, and the
audit entry of the outcome (written before the answer leaves: gateway/responder.py)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway import metrics
from gateway.audit import AuditWriter
from gateway.auth import Authenticator, bearer_token
from gateway.exchange import ANONYMOUS, Exchange, request_id_of
from gateway.internal import PREFIX as INTERNAL_PREFIX
from gateway.policy import GATEWAY, Match, Route, match
from gateway.proxy import FORWARDED_RESPONSE_HEADERS, MAX_BODY_BYTES, BodyPace, forward, read_body, too_large
from gateway.ratelimit import SharedWindow, client_address, over_tls
from gateway.responder import Responder
from gateway.sessions import CSRF_HEADER, SAFE_METHODS, SessionStore, Signed, cookie_value
from services.kernel.context import request_id_var
from services.kernel.errors import (
    FORBIDDEN,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    RATE_LIMITED,
    UNAUTHORIZED,
    Problem,
    ValidationProblem,
    problem_body,
)
from services.kernel.identity import Principal
from services.kernel.settings import get_settings, proxy_networks
from services.kernel.types import ID_PATTERN, control_character_in, escape_control_characters

log = logging.getLogger("fundtrack.door")
PUBLIC_PRINCIPAL = Principal(id="public", role="public", region_code="000000", name="the public")
# S14/A1: liveness, readiness and metrics probes are not business requests: an orchestrator's or a stranger's
# /healthz every second would be most of the trail. They are counted in aggregate instead, by route and status, in
# fundtrack_requests_total on /metrics. A probe of any other path (or method) is recorded as usual.
HEALTH_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
Refusal = tuple[dict[str, Any], list[tuple[bytes, bytes]]]  # a problem body and the headers to send with it


class Door:
    def __init__(self, app: ASGIApp, *, state: Any) -> None:
        self.app = app
        self.state = state
        settings = get_settings()
        self.proxies = proxy_networks(settings.trusted_proxies)
        self._production = settings.env == "production"
        self._client_key = hashlib.sha256(b"fundtrack-client\n" + settings.service_secret.encode()).digest()
        self._secret_body_key = hashlib.sha256(b"fundtrack-secret-body\n" + settings.service_secret.encode()).digest()

    def _public(self, client: str) -> Principal:
        """The public, as one client: its address keyed-hashed (not stored as such) into the signed principal."""
        tag = hmac.new(self._client_key, client.encode(), hashlib.sha256).hexdigest()[:32]
        return replace(PUBLIC_PRINCIPAL, client=tag)

    @property
    def auth(self) -> Authenticator:
        auth: Authenticator = self.state.authenticator
        return auth

    @property
    def sessions(self) -> SessionStore:
        store: SessionStore = self.state.session_store
        return store

    @property
    def public_posts(self) -> SharedWindow:
        window: SharedWindow = self.state.public_posts
        return window

    @property
    def writer(self) -> AuditWriter:
        writer: AuditWriter = self.state.audit_writer
        return writer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(INTERNAL_PREFIX):
            # the services' calls to the gateway's internal API: signed, checked there (gateway/internal.py)
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        ex = Exchange(
            method=scope["method"],
            path=scope["path"],
            query=scope.get("query_string", b"").decode("latin-1"),
            request_id=request_id_of(headers),
        )
        token = request_id_var.set(ex.request_id)

        async def hashing_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                ex.body_digest.update(message.get("body", b""))
            return message

        responder = Responder(send, ex, self.writer)
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
        self, scope: Scope, receive: Receive, responder: Responder, headers: dict[str, str], ex: Exchange
    ) -> None:
        if is_console(ex.path):
            await self._console(scope, receive, responder, headers, ex)
            return
        found: Match = match(ex.method, ex.path)
        if found.route is not None and found.route.secret_body:
            self._keep_body_secret(ex)
        principal, signed = await self._authenticate(headers)  # even for an unknown path: the trail says who probed
        refusal = await self._admit(scope, found, principal, headers, ex) or self._csrf(signed, headers, ex)
        if refusal is not None:
            await _drain(receive, headers)
            await responder.problem(*refusal)
            return
        assert found.route is not None  # admitted
        malformed = _control_character_field(ex)
        if malformed is not None:
            await _drain(receive, headers)
            raise ValidationProblem(
                f"输入无效 / invalid input: {malformed}: 含有控制字符或不是编号 / contains a control character, "
                "or is not an id", field=malformed
            )
        declared = _content_length(headers)
        if declared is not None and declared > found.route.max_body:
            raise too_large(found.route.max_body)  # at once: not a byte of it is read, nor forwarded
        if found.route.target == GATEWAY:
            state = scope.setdefault("state", {})
            # `signed`: the session a cookie authenticates (None for a key): a password change keeps it (S22)
            state.update(principal=ex.principal, request_id=ex.request_id, signed=signed)
            replay = await _read_within(receive, found.route.max_body)
            if found.route.secret_body:  # the route's own record of the change keeps the keyed digest too (S18)
                state["signed_body_sha256"] = ex.body_digest.hexdigest()
            await self.app(scope, replay, responder.send)
            return
        await self._forward(scope, receive, responder, found.route, headers, ex)

    async def _admit(
        self, scope: Scope, found: Match, principal: Principal | None, headers: dict[str, str], ex: Exchange
    ) -> Refusal | None:
        """Who calls (into `ex`), and the refusal of the route, the key, the role or the public's rate, if any."""
        route = found.route
        if route is None:
            ex.principal = principal or ANONYMOUS
            status, code = (404, NOT_FOUND) if found.method_allowed else (405, METHOD_NOT_ALLOWED)
            detail = f"没有这个地址 / no such resource: {ex.method} {ex.path}"
            allow = [(b"allow", ", ".join(found.methods).encode())] if status == 405 else []  # RFC 9110 §15.5.6
            return problem_body(status=status, code=code, title=detail, detail=detail), allow
        ex.route, ex.params = route.template, found.params
        ex.audited = not (route.target == GATEWAY and route.template in HEALTH_ROUTES)
        if route.public:
            client = client_address(_peer(scope), headers.get("x-forwarded-for"), self.proxies)
            ex.principal = principal or self._public(client)
            if principal is None and ex.method == "POST":
                return await self._limit(client)
            return None
        if principal is None:
            detail = "缺少或未知的 API 密钥 / missing or unknown API key: send Authorization: Bearer <key>"
            return (
                problem_body(status=401, code=UNAUTHORIZED, title="Unauthorized", detail=detail),
                [(b"www-authenticate", b"Bearer")],
            )
        ex.principal = principal
        if principal.role not in route.roles:
            detail = (
                f"角色 {principal.role} 无权访问 / role {principal.role} may not {ex.method} {route.template}; "
                f"allowed: {', '.join(sorted(route.roles))}"
            )
            return problem_body(status=403, code=FORBIDDEN, title="Forbidden", detail=detail), []
        return None

    def _keep_body_secret(self, ex: Exchange) -> None:
        """S18: the trail's digest of a body that carries a password is keyed (HMAC under a key derived from the
        service secret): it still tells two bodies apart, but nobody who reads the trail can test guesses against it.
        Set before a byte of the body is read."""
        ex.body_digest = hmac.new(self._secret_body_key, digestmod=hashlib.sha256)

    def _csrf(self, signed: Signed | None, headers: dict[str, str], ex: Exchange) -> Refusal | None:
        """S20: a state-changing request that a session cookie authenticates carries the session's CSRF token in
        X-CSRF-Token (a key in Authorization is never sent by a browser on its own, so keyed requests need none)."""
        if signed is None or ex.method in SAFE_METHODS or self.sessions.csrf_ok(signed.token, headers.get(CSRF_HEADER)):
            return None
        detail = "缺少或错误的 CSRF 令牌 / missing or wrong CSRF token: send the session's token in X-CSRF-Token"
        body = problem_body(status=403, code=CSRF_REJECTED, title="Forbidden", detail=detail, rule="S20",
                            field=CSRF_HEADER)
        return body, []

    async def _console(
        self, scope: Scope, receive: Receive, responder: Responder, headers: dict[str, str], ex: Exchange
    ) -> None:
        """The console's pages (issue #19, gateway/console/): known by the session cookie only, recorded in the trail
        as the person (its static files are not: counted like the health probes), and served by the console app,
        which reads and writes through the public API as that person (gateway/console/api.py)."""
        signed = await self._signed(headers)
        client = client_address(_peer(scope), headers.get("x-forwarded-for"), self.proxies)
        ex.principal = signed.principal if signed is not None else self._public(client)
        if ex.method not in SAFE_METHODS:
            self._keep_body_secret(ex)  # its forms carry passwords (sign-in, a new password)
        ex.route = CONSOLE_STATIC if ex.path.startswith(CONSOLE_STATIC) else CONSOLE_PREFIX
        ex.audited = ex.route != CONSOLE_STATIC
        declared = _content_length(headers)
        if declared is not None and declared > CONSOLE_MAX_BODY:
            raise too_large(CONSOLE_MAX_BODY)
        state = scope.setdefault("state", {})
        # S20: Secure cookies over TLS; in production always (it runs behind TLS: a browser reaching it over plain
        # http then cannot sign in, rather than send its session in the clear)
        secure = self._production or over_tls(
            scope.get("scheme", "http"), _peer(scope), headers.get("x-forwarded-proto"), self.proxies
        )
        state.update(principal=ex.principal, signed=signed, request_id=ex.request_id, client=client, secure=secure,
                     client_tag=self._public(client).client)
        await self.app(scope, await _read_within(receive, CONSOLE_MAX_BODY), responder.send)

    async def _limit(self, client: str) -> Refusal | None:
        """S16: the public's POSTs per address, counted in the store every gateway process shares."""
        admission = await self.public_posts.admit(client)
        if admission.allowed:
            return None
        wait = admission.retry_after_s
        detail = f"提交过于频繁，请 {wait} 秒后再试 / too many submissions from this address; try again in {wait} s"
        body = problem_body(status=429, code=RATE_LIMITED, title="Too many requests", detail=detail, rule="S16",
                            retry_after_s=wait)
        return body, [(b"retry-after", str(wait).encode())]

    async def _forward(
        self, scope: Scope, receive: Receive, responder: Responder, route: Route, headers: dict[str, str], ex: Exchange
    ) -> None:
        """Proxy to the service that owns the route, with the caller's identity signed."""
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
            max_body=route.max_body,
            principal=ex.principal,
            request_id=ex.request_id,
        )
        out = [(k.encode(), response.headers[k].encode()) for k in FORWARDED_RESPONSE_HEADERS if k in response.headers]
        if ex.method == "POST" and route.target in MONEY_SERVICES and "idempotency-key" not in headers:
            out.append((b"warning", NO_KEY_WARNING))
        await responder.send({"type": "http.response.start", "status": response.status_code, "headers": out})
        await responder.send({"type": "http.response.body", "body": response.content})

    async def _authenticate(self, headers: dict[str, str]) -> tuple[Principal | None, Signed | None]:
        """A key (Authorization: Bearer) for a system; else a person's session cookie (issue #19)."""
        if headers.get("authorization"):
            token = bearer_token(headers.get("authorization"))
            if token is None or len(token) > 512:
                return None, None
            return await self.auth.principal_for(token), None
        signed = await self._signed(headers)
        return (signed.principal if signed is not None else None), signed

    async def _signed(self, headers: dict[str, str]) -> Signed | None:
        token = cookie_value(headers.get("cookie"))
        return await self.sessions.signed(token) if token is not None else None


CSRF_REJECTED = "CSRF_REJECTED"
CONSOLE_PREFIX = "/console"
CONSOLE_STATIC = "/console/static/"
CONSOLE_MAX_BODY = 64 * 1024  # the console's own forms; a roster goes to the registry's import route itself


def is_console(path: str) -> bool:
    return path == CONSOLE_PREFIX or path.startswith(CONSOLE_PREFIX + "/")


# Issue #14: a money or loan POST sent without an Idempotency-Key cannot be retried safely when its answer is lost
# (a timeout, a 503 whose outcome is unknown): the retry may apply it twice. Its answer says so.
MONEY_SERVICES = frozenset({"funds", "loans"})
NO_KEY_WARNING = (
    b'299 fundtrack "no Idempotency-Key: if this answer is lost, a retry may apply the request twice; '
    b'send an Idempotency-Key with every money and loan POST"'
)


def _control_character_field(ex: Exchange) -> str | None:
    """The path parameter or query parameter whose decoded value holds a control character (no id, code, date or
    filter does; PostgreSQL text cannot hold a NUL), or the id in the path that is not one (ID_PATTERN, as the
    OpenAPI document says: gateway/contract.py), for every route, the gateway's own included."""
    for name, value in ex.params.items():
        if control_character_in(value) is not None or (name.endswith("_id") and not ID.match(value)):
            return name
    for name, value in parse_qsl(ex.query, keep_blank_values=True):
        if control_character_in(name) is not None or control_character_in(value) is not None:
            return escape_control_characters(name)
    return None


def _content_length(headers: dict[str, str]) -> int | None:
    try:
        return int(headers["content-length"])
    except (KeyError, ValueError):
        return None  # chunked (or malformed): counted as it arrives


async def _read_within(receive: Receive, limit: int) -> Receive:
    """A gateway route's body read whole here, under its route's limit and S12's pace (its bodies are small), then
    handed to the route as one message; what the route reads after it (a disconnect) comes from the client."""
    body = await read_body(receive, limit=limit, pace=BodyPace.from_settings(max_bytes=limit))
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


ID = re.compile(ID_PATTERN)


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

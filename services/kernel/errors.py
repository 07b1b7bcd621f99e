"""RFC 9457 problem details: one exception hierarchy, one set of handlers, used by every service and the gateway."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from services.kernel.rawsql import no_connection

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("fundtrack.errors")

# Codes of the platform; each service keeps its rule codes in its own codes.py.
VALIDATION_ERROR = "VALIDATION_ERROR"
NOT_FOUND = "NOT_FOUND"
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
UNAUTHORIZED = "UNAUTHORIZED"
FORBIDDEN = "FORBIDDEN"
NOT_IN_JURISDICTION = "NOT_IN_JURISDICTION"
IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
CONFLICT = "CONFLICT"
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
DATABASE_TIMEOUT = "DATABASE_TIMEOUT"
# No database connection could be had (the server refused it, was not there, or the pool had none free in time).
DATABASE_UNAVAILABLE = "DATABASE_UNAVAILABLE"
DEPENDENCY_UNAVAILABLE = "DEPENDENCY_UNAVAILABLE"
INTERNAL_ERROR = "INTERNAL_ERROR"
PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
RATE_LIMITED = "RATE_LIMITED"
# S14: a JSON object that names one key twice (which value counts would depend on the reader).
DUPLICATE_KEY = "DUPLICATE_KEY"
# S12: a request body that did not arrive within the gateway's time limit or above its minimum rate (408), or that
# its client stopped sending part way (400): either way the service is not given it as a whole body.
REQUEST_BODY_TIMEOUT = "REQUEST_BODY_TIMEOUT"
REQUEST_BODY_INCOMPLETE = "REQUEST_BODY_INCOMPLETE"
# S5: a signed request whose nonce the service has already seen, or whose body is not the one signed.
REPLAYED_REQUEST = "REPLAYED_REQUEST"
BODY_DIGEST_MISMATCH = "BODY_DIGEST_MISMATCH"
# S5: a state-changing request still running when its signature's window for claiming its nonce ended (uow.py): it
# is rolled back, nothing written; sent again (with its Idempotency-Key), it is signed anew.
REQUEST_OUTLIVED_SIGNATURE = "REQUEST_OUTLIVED_SIGNATURE"


class Problem(Exception):
    """An error that becomes a problem-details response. `code` is machine-readable, `detail` is for people."""

    status: int = 400
    code: str = "BAD_REQUEST"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        status: int | None = None,
        field: str | None = None,
        rule: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.field = field
        self.rule = rule
        self.extra = extra

    def body(self, instance: str | None = None) -> dict[str, Any]:
        return problem_body(
            status=self.status,
            code=self.code,
            title=self.title,
            detail=self.detail,
            field=self.field,
            rule=self.rule,
            instance=instance,
            **self.extra,
        )


class ValidationProblem(Problem):
    status = 422
    code = VALIDATION_ERROR
    title = "Invalid input"


class RuleViolation(Problem):
    """A domain rule refused the request; `rule` is the DOMAIN.md id (F1, P3, L2a…)."""

    status = 422
    title = "Refused by a rule"


class NotFound(Problem):
    status = 404
    code = NOT_FOUND
    title = "Not found"


class Conflict(Problem):
    status = 409
    code = CONFLICT
    title = "Conflict"


class Unauthorized(Problem):
    status = 401
    code = UNAUTHORIZED
    title = "Unauthorized"


class ReplayedRequest(Unauthorized):
    """S5: the signed request was already received once (its nonce is known): a replay is refused, not re-run."""

    code = REPLAYED_REQUEST
    title = "Replayed request"


class Forbidden(Problem):
    status = 403
    code = FORBIDDEN
    title = "Forbidden"


class NotInJurisdiction(Forbidden):
    code = NOT_IN_JURISDICTION
    title = "Outside the caller's jurisdiction"


class ServiceUnavailable(Problem):
    status = 503
    code = SERVICE_UNAVAILABLE
    title = "A service this request needs is unavailable"


def database_unavailable() -> ServiceUnavailable:
    """No database connection could be had (rawsql.no_connection): nothing of the request ran."""
    return ServiceUnavailable(
        "数据库暂时无法连接，未做任何更改 / no database connection could be had (refused, or none free in time): "
        "nothing was changed; retry later with the same Idempotency-Key",
        code=DATABASE_UNAVAILABLE,
    )


def problem_body(
    *, status: int, code: str, title: str, detail: str, instance: str | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"https://fundtrack.example/problems/{code.lower().replace('_', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=int(body["status"]), media_type=PROBLEM_JSON, headers=headers)


def field_of(loc: Sequence[int | str]) -> str:
    """('body', 'payee', 'account_no') → 'payee.account_no'; ('query', 'limit') → 'limit'."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def validation_body(exc: RequestValidationError, instance: str) -> dict[str, Any]:
    errors = [
        {
            # A JSON syntax error's loc is ('body', <offset>): the field is the body itself.
            "field": "body" if e.get("type") == "json_invalid" else field_of(e.get("loc", ())),
            "message": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in exc.errors()
    ]
    first = errors[0] if errors else {"field": "body", "message": "invalid"}
    detail = f"输入无效 / invalid input: {first['field']}: {first['message']}"
    return problem_body(
        status=422,
        code=VALIDATION_ERROR,
        title="Invalid input",
        detail=detail,
        instance=instance,
        field=first["field"],
        errors=errors,
    )


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(exc.body(request.url.path))


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return problem_response(validation_body(exc, request.url.path))


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    codes = {404: NOT_FOUND, 405: METHOD_NOT_ALLOWED, 401: UNAUTHORIZED, 403: FORBIDDEN, 413: PAYLOAD_TOO_LARGE}
    code = codes.get(exc.status_code, "HTTP_ERROR")
    detail = str(exc.detail)
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"没有这个地址 / no such resource: {request.method} {request.url.path}"
    body = problem_body(status=exc.status_code, code=code, title=detail, detail=detail, instance=request.url.path)
    return problem_response(body, headers=dict(exc.headers) if exc.headers else None)


async def _on_client_gone(request: Request, exc: Exception) -> JSONResponse:
    """The caller (the gateway) aborted the body part way (S12: its client went away or was too slow): the request's
    transaction is rolled back like any refusal; nobody is there to read this answer, and it is no server error."""
    log.warning("%s %s: the body was cut off; nothing was done", request.method, request.url.path)
    detail = "请求体不完整 / the body was cut off before its end; nothing was done"
    body = problem_body(status=400, code=REQUEST_BODY_INCOMPLETE, title="Request body incomplete", detail=detail,
                        instance=request.url.path)
    return problem_response(body)


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    if no_connection(exc):  # outside a unit of work (which says more): the gateway's own routes, probes
        log.warning("%s %s: no database connection could be had: %s", request.method, request.url.path, exc)
        body = problem_body(
            status=503,
            code=DATABASE_UNAVAILABLE,
            title="Database unavailable",
            detail="数据库暂时无法连接，请稍后用同一幂等键重试 / no database connection could be had (refused, or none "
            "free in time); ask again later, with the same Idempotency-Key",
            instance=request.url.path,
        )
        return problem_response(body, headers={"retry-after": "1"})
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    body = problem_body(
        status=500,
        code=INTERNAL_ERROR,
        title="Internal error",
        detail="内部错误 / internal error; the request id identifies it in the logs",
        instance=request.url.path,
    )
    # Starlette re-raises the error after this answer and uvicorn then closes the connection: a keep-alive client
    # (the gateway's pool) told nothing would send its next request down a closed connection and fail it.
    return problem_response(body, headers={"connection": "close"})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(ClientDisconnect, _on_client_gone)
    app.add_exception_handler(Exception, _on_unexpected)

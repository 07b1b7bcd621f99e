"""The console reads and writes through the public API as the person signed in: each call goes through the gateway's
own door in this process (authentication by the session, the role and jurisdiction policy, the audit trail naming
the person), so a page can do nothing the API would refuse them."""

from __future__ import annotations

import itertools
import re
import uuid
from typing import Any

import httpx
from starlette.requests import Request
from starlette.types import ASGIApp

from gateway.sessions import COOKIE, CSRF_HEADER, Signed


class ApiError(Exception):
    """A problem answer of the public API (RFC 9457): what a page shows next to the field it names."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(problem.get("detail", str(status)))
        self.status = status
        self.problem = problem

    @property
    def field(self) -> str | None:
        value = self.problem.get("field")
        return str(value) if value is not None else None

    @property
    def rule(self) -> str | None:
        value = self.problem.get("rule")
        return str(value) if value is not None else None

    @property
    def detail(self) -> str:
        return str(self.problem.get("detail", ""))

    @property
    def code(self) -> str:
        return str(self.problem.get("code", ""))


# A segment of a path the console asks: an id, a name or a literal, never `.`/`..`, a query, a fragment or an escape
# that a person's input (a path parameter of a console page) could smuggle into another route of the API.
_SEGMENT = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
_NO_SUCH = {"status": 404, "code": "NOT_FOUND", "detail": "没有这个对象 / no such object"}


def checked(path: str) -> str:
    segments = path.split("/")
    if segments[0] != "" or any(seg in (".", "..") or not _SEGMENT.fullmatch(seg) for seg in segments[1:]):
        raise ApiError(404, dict(_NO_SUCH))
    return path


def answer_of(response: httpx.Response) -> Any:
    """The API's answer: its JSON (or text), or its problem raised as an ApiError."""
    if response.status_code >= 400:
        try:
            problem = response.json()
        except ValueError:
            problem = {"detail": response.text[:200]}
        raise ApiError(response.status_code, problem if isinstance(problem, dict) else {"detail": str(problem)})
    if not response.content:
        return None
    return response.json() if "json" in response.headers.get("content-type", "") else response.text


class Loopback:
    """One client for the process, into the gateway app itself (no socket, the same door as any request)."""

    def __init__(self, gateway: ASGIApp) -> None:
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=gateway, client=("127.0.0.1", 0)),
            base_url="http://console.local",
            timeout=60.0,
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    async def public_get(self, path: str, params: dict[str, Any], request_id: str) -> Any:
        """A GET of the public API with no cookie and no key: the door answers it as it answers anyone."""
        clean = {k: v for k, v in params.items() if v not in (None, "")}
        return answer_of(await self.client.get(checked(path), params=clean, headers={"x-request-id": request_id}))


class ConsoleApi:
    """The public API as the person of `request` sees it."""

    def __init__(self, loopback: Loopback, request: Request, signed: Signed, *, may_write: bool = False) -> None:
        """`may_write`: the console request is itself a write whose CSRF token was checked (guard.py); only then
        do the API calls carry the session's CSRF token, so a page served for a GET can change nothing (S20)."""
        self._client = loopback.client
        self._signed = signed
        self._may_write = may_write
        self._request_id = str(request.scope.get("state", {}).get("request_id", "console"))[:100]
        self._calls = itertools.count(1)

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {
            "cookie": f"{COOKIE}={self._signed.token}",
            "x-request-id": f"{self._request_id}.{next(self._calls)}",  # the page's request, in the trail
        }
        if self._may_write:
            headers[CSRF_HEADER] = self._signed.csrf
        headers.update(extra or {})
        return headers

    async def request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None,
        idempotency_key: str | None = None,
    ) -> Any:
        extra = {"idempotency-key": idempotency_key or str(uuid.uuid4())} if method == "POST" else None
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        return answer_of(
            await self._client.request(method, checked(path), params=clean, json=json, headers=self._headers(extra))
        )

    async def get(self, path: str, **params: Any) -> Any:
        return await self.request("GET", path, params=params)

    async def get_object(self, path: str, object_id: str) -> dict[str, Any]:
        """GET of one object, which must be the one asked for (a path like /alerts/summary is another route's)."""
        found = await self.get(path)
        if not isinstance(found, dict) or found.get("id") != object_id:
            raise ApiError(404, dict(_NO_SUCH))
        return found

    async def post(self, path: str, json: Any = None, *, idempotency_key: str | None = None) -> Any:
        return await self.request("POST", path, json=json, idempotency_key=idempotency_key)

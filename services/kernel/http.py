"""Outgoing HTTP between our processes: httpx as the API, on the aiohttp transport by default.

The transport was chosen by measurement (bench/RESULTS.md): httpcore's pool rescans every connection per request
(encode/httpx#3215), which capped a gateway at a fraction of what aiohttp's connector sustains. Set
FUNDTRACK_HTTP_TRANSPORT=httpx to compare.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import httpx
from httpx_aiohttp import AiohttpTransport
from starlette.requests import Request

from services.kernel.breaker import Breaker
from services.kernel.context import current_request_id, holds_connection, new_request_id
from services.kernel.errors import DEPENDENCY_UNAVAILABLE, ServiceUnavailable
from services.kernel.identity import Principal, body_digest, sign
from services.kernel.settings import get_settings

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
# A call to another service's internal API: answered well within the gateway's own 30 s, or given up (a 503 naming
# the dependency) while the caller's client still waits for an answer.
SERVICE_CALL_TIMEOUT = httpx.Timeout(15.0, connect=2.0)
# Shorter than the servers' keep-alive (75 s, deploy/supervisor.py): a pooled connection is dropped by the client
# before the server would close it, so a request never races a server-side close.
KEEPALIVE_SECONDS = 30.0


def make_client(
    base_url: str = "", *, max_connections: int = 200, timeout: httpx.Timeout = DEFAULT_TIMEOUT
) -> httpx.AsyncClient:
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections, keepalive_expiry=KEEPALIVE_SECONDS
    )
    transport: httpx.AsyncBaseTransport
    if os.environ.get("FUNDTRACK_HTTP_TRANSPORT", "aiohttp") == "httpx":
        transport = httpx.AsyncHTTPTransport(limits=limits)
    else:
        transport = AiohttpTransport(limits=limits, trust_env=False)
    return httpx.AsyncClient(base_url=base_url, transport=transport, timeout=timeout, trust_env=False)


def signed_headers(
    method: str, url: httpx.URL, principal: Principal, request_id: str | None = None, *, body: bytes = b"",
    audience: str,
) -> dict[str, str]:
    """The signature of one request and its `body` (the bytes sent: `request.content` of a built httpx request),
    for the service `audience` only."""
    rid = request_id or (current_request_id() if current_request_id() != "-" else new_request_id())
    return sign(
        get_settings().service_secret,
        method=method,
        path=url.path,
        query=url.query.decode("latin-1"),
        request_id=rid,
        principal=principal,
        body_sha256=body_digest(body),
        audience=audience,
    )


def call_template(path: str) -> str:
    """A path with each segment that holds a digit (an id: `prj_01m…`, a household's number) written `{}`, so that
    `ServiceClient.calls` has a key per route, not per record: keyed by the path as called, it grew by an entry for
    every project, household or alert a service asked about, for as long as the process ran (issue #14)."""
    return "/".join("{}" if any(c.isdigit() for c in segment) else segment for segment in path.split("/"))


class ServiceClient:
    """A typed caller of another service's internal API, signing as this service on behalf of the caller."""

    def __init__(self, name: str, base_url: str, *, caller: str) -> None:
        self.name = name
        self.client = make_client(base_url, timeout=SERVICE_CALL_TIMEOUT)
        self.breaker = Breaker()
        self.service_principal = Principal(id=f"service:{caller}", role="service", region_code="000000", name=caller)
        # requests sent, by "METHOD path" with its ids as `{}` (call_template): what shows a loop asking once per row
        # (issue #20's N+1 test counts them)
        self.calls: Counter[str] = Counter()

    async def request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None
    ) -> httpx.Response:
        request = self.client.build_request(method, path, params=params, json=json)
        request.headers.update(
            signed_headers(method, request.url, self.service_principal, body=request.content, audience=self.name)
        )
        if holds_connection():
            # Issue #14: a stalled dependency would hold this connection, and with enough such requests the pool.
            raise RuntimeError(
                f"{method} {path} to {self.name} while the request holds a database connection: ask first, then "
                "write (services/kernel/uow.py)"
            )
        if (left := self.breaker.refusal()) is not None:
            raise ServiceUnavailable(
                f"{self.name} 服务不可用 / the {self.name} service is not answering: its last "
                f"{self.breaker.failures} calls failed; refused at once for {left:.1f} s more",
                code=DEPENDENCY_UNAVAILABLE,
                service=self.name,
            )
        self.calls[f"{method} {call_template(path)}"] += 1
        try:
            response = await self.client.send(request)
        except httpx.HTTPError as exc:
            self.breaker.failed()
            raise ServiceUnavailable(
                f"{self.name} 服务不可用 / the {self.name} service did not answer: {type(exc).__name__}",
                code=DEPENDENCY_UNAVAILABLE,
                service=self.name,
            ) from exc
        except BaseException:
            self.breaker.abandoned()
            raise
        self.breaker.succeeded()
        return response

    async def get_json(self, path: str, *, params: dict[str, Any] | None = None) -> Any | None:
        """GET a JSON document; None for 404; 503 for the service being down or failing."""
        response = await self.request("GET", path, params=params)
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise ServiceUnavailable(
                f"{self.name} 服务出错 / the {self.name} service answered {response.status_code}", service=self.name
            )
        return response.json()

    async def post_items(
        self, path: str, items: Sequence[Any], *, batch_size: int = 1000, concurrency: int = 1
    ) -> list[Any]:
        """POST `items` to an internal endpoint that takes `{"items": [...]}` (at most `batch_size` a call) and
        answers `{"items": [...]}` in the order asked: every batch's answers, in order. `concurrency` batches are in
        flight at once. A batch not answered 200 is a 503 (ServiceUnavailable), as the service being down is."""
        gate = asyncio.Semaphore(concurrency)

        async def one(batch: Sequence[Any]) -> list[Any]:
            async with gate:
                response = await self.request("POST", path, json={"items": list(batch)})
            if response.status_code != 200:
                raise ServiceUnavailable(
                    f"{self.name} 服务出错 / the {self.name} service answered {response.status_code} to POST {path}",
                    service=self.name,
                )
            answered: list[Any] = response.json()["items"]
            return answered

        batches = [items[i:i + batch_size] for i in range(0, len(items), batch_size)]
        return [answer for answered in await asyncio.gather(*(one(b) for b in batches)) for answer in answered]

    async def aclose(self) -> None:
        await self.client.aclose()


def client_in(state: Any, name: str) -> ServiceClient:
    """The client of service `name` that this process opened at start-up (kernel/app.py: `depends_on`), from the
    app's state: what a detector run has (kernel alerts), where a route has its request (`client_of`)."""
    clients: dict[str, ServiceClient] = state.clients
    return clients[name]


T = TypeVar("T")
ASKS_SERVICE = "fundtrack_asks_service"  # the attribute naming the service a route dependency asks


def service_dependency(name: str, typed: Callable[[ServiceClient], T]) -> Callable[[Request], Awaitable[T]]:
    """A route's typed caller of service `name` (`typed` wraps its client): `Annotated[Registry,
    Depends(service_dependency("registry", Registry))]`. The unit of work knows from it that the route asks another
    service, so a replay of its Idempotency-Key is answered before anyone is asked (services/kernel/uow.py)."""

    async def dependency(request: Request) -> T:
        return typed(client_of(request, name))

    setattr(dependency, ASKS_SERVICE, name)
    dependency.__name__ = f"{name}_dependency"
    return dependency


def client_of(request: Request, name: str) -> ServiceClient:
    """The client of service `name` for a route. Each service's `clients.py` wraps it once in a typed dependency
    (`RegistryDep = Annotated[Registry, Depends(...)]`), and routes take that dependency rather than reaching into
    `app.state`."""
    return client_in(request.app.state, name)

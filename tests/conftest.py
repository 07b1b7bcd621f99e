"""Fixtures: one real stack per test session (real PostgreSQL, real processes), clients and principals."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.db import create_engine, plain_url, session_factory
from services.kernel.http import ServiceClient
from services.kernel.identity import Principal, sign
from services.kernel.settings import get_settings
from tests.stack import Stack, TestDatabase, _with_database, create_test_database, start_stack, stop_all, workdir


@pytest.fixture(scope="session")
async def database() -> AsyncIterator[TestDatabase]:
    directory = workdir()
    db = await create_test_database(directory)
    try:
        yield db
    finally:
        await db.drop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def stack(database: TestDatabase) -> Iterator[Stack]:
    directory = workdir()
    running = start_stack(database, directory)
    try:
        yield running
    finally:
        stop_all(running.children)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
async def db(database: TestDatabase) -> AsyncIterator[asyncpg.Pool]:
    """A superuser pool on the test database, for checking what the system wrote (and for tampering tests)."""
    pool = await asyncpg.create_pool(plain_url(database.url), min_size=1, max_size=4)
    assert pool is not None
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
async def loans_session(database: TestDatabase, stack: object) -> AsyncIterator[AsyncSession]:
    """A session on the loans service's schema and role, beside the running stack (for checks of derived tables,
    and as a request's session)."""
    engine = create_engine("loans", url=database.url, pool_size=1)
    try:
        async with session_factory(engine)() as session:
            yield session
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
async def http(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=300, max_keepalive_connections=300, keepalive_expiry=30)
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=60, limits=limits) as client:
        yield client


@dataclass
class Api:
    """A caller of the gateway with one principal's key."""

    client: httpx.AsyncClient
    key: str | None
    principal_id: str = ""
    role: str = ""
    region_code: str = ""

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"authorization": f"Bearer {self.key}"} if self.key else {}
        headers.update(extra or {})
        return headers

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.get(path, headers=self.headers(kw.pop("headers", None)), **kw)

    async def post(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return await self.client.post(path, json=json, headers=self.headers(kw.pop("headers", None)), **kw)

    async def put(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return await self.client.put(path, json=json, headers=self.headers(kw.pop("headers", None)), **kw)

    async def delete(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.delete(path, headers=self.headers(kw.pop("headers", None)), **kw)

    async def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return await self.client.request(method, path, headers=self.headers(kw.pop("headers", None)), **kw)


ServiceClients = Callable[[str, str], ServiceClient]


@pytest.fixture
async def service_clients(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[ServiceClients]:
    """`make(service, caller)`: the suite's `service` as the `caller` service reaches it (the kernel's client,
    signing with the suite's secret, counting its calls); every client made is closed after the test."""
    monkeypatch.setenv("FUNDTRACK_SERVICE_SECRET", stack.secret)
    get_settings.cache_clear()
    made: list[ServiceClient] = []

    def make(service: str, caller: str) -> ServiceClient:
        made.append(ServiceClient(service, stack.service_urls[service], caller=caller))
        return made[-1]

    try:
        yield make
    finally:
        for client in made:
            await client.aclose()
        get_settings.cache_clear()  # the environment is given back by monkeypatch next


@pytest.fixture(scope="session")
def admin(stack: Stack, http: httpx.AsyncClient) -> Api:
    return Api(http, stack.admin_token, "admin", "admin", "000000")


@pytest.fixture(scope="session")
def anonymous(http: httpx.AsyncClient) -> Api:
    return Api(http, None)


MakePrincipal = Callable[..., Awaitable[Api]]


@pytest.fixture(scope="session")
def make_principal(admin: Api, http: httpx.AsyncClient) -> MakePrincipal:
    async def make(role: str, region_code: str, name: str | None = None) -> Api:
        response = await admin.post(
            "/admin/principals",
            json={
                "name": name or f"{role}-{region_code}-{uuid.uuid4().hex[:6]}",
                "role": role,
                "region_code": region_code,
            },
        )
        assert response.status_code == 201, response.text
        body = response.json()
        return Api(http, body["api_key"], body["id"], role, region_code)

    return make


def signed(
    stack: Stack, method: str, url: str, principal: Principal | None = None, *, body: bytes = b"",
    digest: str | None = None,
) -> dict[str, str]:
    """Headers a gateway would add: for tests that call a service port directly, as the gateway would (`body`: the
    exact bytes the test sends; `digest`: STREAMED_BODY for a streamed upload)."""
    request = httpx.Request(method, url)
    audience = next(name for name, base in stack.service_urls.items() if url.startswith(base))
    return sign(
        stack.secret,
        method=method,
        path=request.url.path,
        query=request.url.query.decode(),
        request_id=uuid.uuid4().hex,
        principal=principal or Principal(id="test", role="admin", region_code="000000"),
        body_sha256=digest or hashlib.sha256(body).hexdigest(),
        audience=audience,
    )


async def wait_for_audit(admin: Api, timeout: float = 10.0) -> dict[str, Any]:
    """Wait until the sequencer has chained everything pending; return the verification."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        body: dict[str, Any] = (await admin.get("/audit/verify")).json()
        # the verify request's own entry is written after its answer, so it is never among `pending`
        if body["pending"] == 0:
            # its `entries` were counted before `pending` (the sequencer may have chained more in between): count
            # again, now that nothing waits
            fresh: dict[str, Any] = (await admin.get("/audit/verify")).json()
            return fresh
        if asyncio.get_running_loop().time() > deadline:
            return body
        await asyncio.sleep(0.1)


async def scan_alerts(api: Api, as_of: str, timeout: float = 120.0) -> dict[str, Any]:
    """POST /alerts/scan (a job: 202) and follow it until it is done; its answer (issue #20)."""
    started = await api.post("/alerts/scan", json={"as_of": as_of})
    assert started.status_code == 202, started.text
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        job: dict[str, Any] = (await api.get(f"/alerts/scans/{started.json()['id']}")).json()
        if job["status"] not in ("queued", "running"):
            assert job["status"] == "done", job
            return job
        assert asyncio.get_running_loop().time() < deadline, job
        await asyncio.sleep(0.05)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Tests that alter the trail (tamper) or stop processes run last.
    items.sort(key=lambda item: 1 if item.get_closest_marker("destructive") else 0)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "destructive: alters shared state (tampers the trail, kills processes)")
    config.addinivalue_line("markers", "contract: schemathesis against the real system's OpenAPI (issue #14)")
    os.environ.setdefault("FUNDTRACK_LOG_LEVEL", "WARNING")


@pytest.fixture
async def scratch(database: TestDatabase) -> AsyncIterator[str]:
    """An empty database of its own on the suite's server (its URL as the suite's superuser): for a migration run
    from the start on data of its own (tests/platform/test_schema.py, the county keys' tests)."""
    name = f"ft_scratch_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(plain_url(database.admin_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield _with_database(database.admin_url, name)
    finally:
        admin = await asyncpg.connect(plain_url(database.admin_url))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()

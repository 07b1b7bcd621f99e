"""The unit of work runs a request again when PostgreSQL aborts it for a deadlock or a serialization failure,
and answers 503 (nothing changed) when it keeps losing, never a 500. It takes a connection at the first statement
only, and refuses a call to another service made while the request's transaction holds one (issue #14)."""

import socket
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from fastapi import FastAPI, Request
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.kernel.app import service_router
from services.kernel.db import create_engine, session_factory
from services.kernel.errors import install_error_handlers
from services.kernel.http import ServiceClient, client_of, signed_headers
from services.kernel.identity import Principal
from services.kernel.signed import SignedIdentityMiddleware
from services.kernel.uow import SessionDep
from tests.stack import TestDatabase


class Deadlock(Exception):
    sqlstate = "40P01"


@pytest.fixture
async def app(database: TestDatabase, stack: object) -> AsyncIterator[tuple[FastAPI, dict[str, int]]]:
    calls = {"n": 0, "fail": 0, "raw": 0}
    router = service_router()

    @router.post("/thing")
    async def thing(session: SessionDep) -> dict[str, int]:
        calls["n"] += 1
        await session.execute(text("SELECT 1"))
        if calls["n"] <= calls["fail"]:
            if calls["raw"]:  # as a statement run by kernel/rawsql.py raises it
                raise asyncpg.exceptions.DeadlockDetectedError("deadlock detected")
            raise DBAPIError("UPDATE …", {}, Deadlock("deadlock detected"))
        return {"attempt": calls["n"]}

    app = FastAPI()
    app.add_middleware(SignedIdentityMiddleware, audience="funds")
    install_error_handlers(app)
    app.include_router(router)
    engine = create_engine("funds", url=database.url)
    app.state.sessions = session_factory(engine)
    yield app, calls
    await engine.dispose()


async def _post(app: FastAPI, path: str = "/thing") -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as client:
        request = client.build_request("POST", path, json={})
        request.headers.update(
            signed_headers(
                "POST", request.url, Principal("t", "admin", "000000"), body=request.content, audience="funds"
            )
        )
        return await client.send(request)


async def test_a_deadlocked_request_is_run_again(app) -> None:
    application, calls = app
    calls["fail"] = 2
    response = await _post(application)
    assert response.status_code == 200 and response.json() == {"attempt": 3}


async def test_a_request_that_keeps_losing_is_503_not_500(app) -> None:
    application, calls = app
    calls["fail"] = 10
    response = await _post(application)
    assert response.status_code == 503 and response.json()["code"] == "SERVICE_UNAVAILABLE"
    assert calls["n"] == 3


async def test_a_deadlock_raised_by_asyncpg_itself_is_run_again_too(app) -> None:
    application, calls = app
    calls["fail"], calls["raw"] = 2, 1
    response = await _post(application)
    assert response.status_code == 200 and response.json() == {"attempt": 3}


@pytest.fixture
async def asking(database: TestDatabase, stack: object) -> AsyncIterator[tuple[FastAPI, dict[str, int]]]:
    """Routes that ask the registry (here a closed port: 503 DEPENDENCY_UNAVAILABLE) before or after a statement;
    `connections`: the pool's connections checked out while the registry is asked."""
    seen = {"connections": -1}
    router = service_router()
    engine = create_engine("funds", url=database.url)

    async def ask(request: Request) -> None:
        seen["connections"] = engine.pool.checkedout()  # type: ignore[attr-defined]
        await client_of(request, "registry").request("GET", "/internal/households/x")

    @router.post("/asks-first")
    async def asks_first(request: Request, session: SessionDep) -> dict[str, int]:
        await ask(request)
        await session.execute(text("SELECT 1"))
        return {}

    @router.post("/asks-after-a-statement")
    async def asks_after(request: Request, session: SessionDep) -> dict[str, int]:
        await session.execute(text("SELECT 1"))
        await ask(request)
        return {}

    app = FastAPI()
    app.add_middleware(SignedIdentityMiddleware, audience="funds")
    install_error_handlers(app)
    app.include_router(router)
    app.state.sessions = session_factory(engine)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    app.state.clients = {"registry": ServiceClient("registry", f"http://127.0.0.1:{closed}", caller="funds")}
    yield app, seen
    await app.state.clients["registry"].aclose()
    await engine.dispose()


async def test_another_service_is_asked_with_no_connection_held(asking) -> None:
    application, seen = asking
    response = await _post(application, "/asks-first")
    assert response.status_code == 503 and response.json()["code"] == "DEPENDENCY_UNAVAILABLE", response.text
    assert seen["connections"] == 0


async def test_asking_another_service_inside_the_transaction_is_refused(asking) -> None:
    application, seen = asking
    with pytest.raises(RuntimeError, match="ask first, then write"):
        await _post(application, "/asks-after-a-statement")
    assert seen["connections"] == 1  # it was about to be held, and the call was not made

"""The unit of work runs a request again when PostgreSQL aborts it for a deadlock or a serialization failure,
and answers 503 (nothing changed) when it keeps losing, never a 500."""

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.kernel.app import service_router
from services.kernel.db import create_engine, session_factory
from services.kernel.errors import install_error_handlers
from services.kernel.http import signed_headers
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


async def _post(app: FastAPI) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as client:
        request = client.build_request("POST", "/thing", json={})
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

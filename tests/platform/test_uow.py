"""The unit of work runs a request again when PostgreSQL aborts it for a deadlock or a serialization failure,
and answers 503 (nothing changed) when it keeps losing, never a 500. It takes a connection at the first statement
only, and refuses a call to another service made while the request's transaction holds one (issue #14). A streamed
body staged by its route is whole before the connection is taken; a streamed route that holds its connection while
its body arrives runs as one of a bounded number of turns (issue #14)."""

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from fastapi import FastAPI, Request
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.kernel import idempotency, uow
from services.kernel.db import create_engine, session_factory
from services.kernel.errors import install_error_handlers
from services.kernel.http import ServiceClient, client_of, signed_headers
from services.kernel.identity import STREAMED_BODY, Principal, sign
from services.kernel.routers import service_router
from services.kernel.settings import get_settings
from services.kernel.signed import SignedIdentityMiddleware
from services.kernel.uow import SessionDep, body_staged, brief_session, streamed_body, streams_at_once
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

    @router.post("/brief-after-a-statement")
    async def brief_after(request: Request, session: SessionDep) -> dict[str, int]:
        await session.execute(text("SELECT 1"))
        async with brief_session(request) as brief:
            await brief.execute(text("SELECT 1"))
        return {}

    @router.post("/brief-first")
    async def brief_first(request: Request, session: SessionDep) -> dict[str, int]:
        async with brief_session(request) as brief:
            await brief.execute(text("SELECT 1"))
        seen["connections"] = engine.pool.checkedout()  # type: ignore[attr-defined]
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


async def test_a_brief_session_is_read_before_the_first_statement_and_refused_after(asking) -> None:
    """Both sides: a brief read before the request's first statement gives its connection back at once; one
    opened while the request holds its own would be a second connection for one request, and is refused."""
    application, seen = asking
    response = await _post(application, "/brief-first")
    assert response.status_code == 200, response.text
    assert seen["connections"] == 0
    with pytest.raises(RuntimeError, match="brief session was opened"):
        await _post(application, "/brief-after-a-statement")


@pytest.fixture
async def streaming(database: TestDatabase, stack: object) -> AsyncIterator[tuple[FastAPI, dict[str, int]]]:
    """Streamed routes (issue #14): one that stages its body before its first statement, one that runs a statement
    before (a programming error), and one that holds its connection while its body arrives. `seen`: the pool's
    connections checked out at each step, and how many times each route ran."""
    seen = {"staged": 0, "streamed": 0}
    router = service_router()
    engine = create_engine("funds", url=database.url)

    @router.post("/staged", openapi_extra=streamed_body(staged=True))
    async def staged(request: Request, session: SessionDep) -> dict[str, int]:
        seen["before"] = engine.pool.checkedout()  # type: ignore[attr-defined]
        size = sum([len(chunk) async for chunk in request.stream()])
        seen["received"] = engine.pool.checkedout()  # type: ignore[attr-defined]
        await body_staged(request)
        seen["claimed"] = engine.pool.checkedout()  # type: ignore[attr-defined]
        seen["staged"] += 1
        await session.execute(text("SELECT 1"))
        return {"size": size, "run": seen["staged"]}

    @router.post("/staged-too-soon", openapi_extra=streamed_body(staged=True))
    async def too_soon(request: Request, session: SessionDep) -> dict[str, int]:
        await session.execute(text("SELECT 1"))
        return {"size": sum([len(chunk) async for chunk in request.stream()])}

    @router.post("/streamed", openapi_extra=streamed_body())
    async def streamed(request: Request, session: SessionDep) -> dict[str, int]:
        seen["held"] = engine.pool.checkedout()  # type: ignore[attr-defined]
        seen["streamed"] += 1
        return {"size": sum([len(chunk) async for chunk in request.stream()])}

    app = FastAPI()
    app.add_middleware(SignedIdentityMiddleware, audience="funds")
    install_error_handlers(app)
    app.include_router(router)
    app.state.sessions = session_factory(engine)
    yield app, seen
    await engine.dispose()


async def _pieces(body: bytes) -> AsyncIterator[bytes]:
    for i in range(0, len(body), 4):
        yield body[i : i + 4]
        await asyncio.sleep(0)


async def _stream(app: FastAPI, path: str, body: bytes, key: str | None = None) -> httpx.Response:
    """A streamed upload as the gateway sends it: signed as STREAMED_BODY, its body in pieces."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as client:
        request = client.build_request("POST", path, content=_pieces(body),
                                       headers={"idempotency-key": key} if key else None)
        request.headers.update(sign(
            get_settings().service_secret, method="POST", path=path, query="", request_id=uuid.uuid4().hex,
            principal=Principal("t", "admin", "000000"), body_sha256=STREAMED_BODY, audience="funds",
        ))
        return await client.send(request)


async def test_a_staged_body_is_whole_before_its_connection_is_taken_and_its_key_claimed(streaming) -> None:
    application, seen = streaming
    key = f"staged-{uuid.uuid4().hex}"
    first = await _stream(application, "/staged", b"a document of some bytes", key)
    assert first.status_code == 200 and first.json() == {"size": 24, "run": 1}, first.text
    assert (seen["before"], seen["received"], seen["claimed"]) == (0, 0, 1)
    # the same key: the same body is answered what was kept (the route not run again), another body is 409
    again = await _stream(application, "/staged", b"a document of some bytes", key)
    assert again.json() == first.json() and again.headers.get(idempotency.REPLAY_HEADER) == "true"
    other = await _stream(application, "/staged", b"another document", key)
    assert other.status_code == 409 and other.json()["code"] == "IDEMPOTENCY_CONFLICT", other.text
    assert seen["staged"] == 1


async def test_a_statement_before_a_staged_body_is_whole_is_refused(streaming) -> None:
    application, _ = streaming
    with pytest.raises(RuntimeError, match="before its body was whole"):
        await _stream(application, "/staged-too-soon", b"a document", f"soon-{uuid.uuid4().hex}")


async def test_a_streamed_request_holding_its_connection_waits_for_a_turn_then_is_refused(
    streaming, monkeypatch: pytest.MonkeyPatch
) -> None:
    application, seen = streaming
    monkeypatch.setattr(uow, "STREAM_TURN_SECONDS", 0.2)
    answered = await _stream(application, "/streamed", b"lines of a roster")
    assert answered.status_code == 200 and answered.json() == {"size": 17} and seen["held"] == 1
    turns = application.state.stream_turns
    taken = [await turns.acquire() for _ in range(streams_at_once(get_settings().db_pool_size))]
    try:
        refused = await _stream(application, "/streamed", b"lines of a roster")
    finally:
        for _ in taken:
            turns.release()
    assert refused.status_code == 503 and refused.json()["code"] == "SERVICE_UNAVAILABLE", refused.text
    assert seen["streamed"] == 1  # the refused one never ran
    assert (await _stream(application, "/streamed", b"lines of a roster")).status_code == 200


def test_streams_at_once_leave_half_the_pool_to_other_routes() -> None:
    assert [streams_at_once(size) for size in (1, 2, 3, 5, 16)] == [1, 1, 1, 2, 8]

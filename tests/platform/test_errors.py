"""Bad input gets an RFC 9457 problem with a code and a field, never a 500, and changes nothing."""

import uuid

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from services.kernel.errors import install_error_handlers
from tests.conftest import Api
from tests.stack import TestDatabase

PROBLEM_KEYS = {"type", "title", "status", "detail", "code"}


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (b"{not json", "body"),
        (b'{"name": "x", "role": "finance", "region_code": 430000}', "region_code"),  # wrong type
        (b'{"name": "x", "role": "finance", "region_code": "43000"}', "region_code"),  # malformed code
        (b'{"name": "x", "role": "finance", "region_code": "430000", "rgion": "1"}', "rgion"),  # unknown field
        (b'{"name": "", "role": "finance", "region_code": "430000"}', "name"),
        (b'{"name": "' + b"x" * 60_000 + b'", "role": "finance", "region_code": "430000"}', "name"),  # under 64 KiB
        (b"[]", "body"),
        (b"", "body"),
        # S14: bytes that are not UTF-8, a number longer than any field takes (Python refuses to read it)
        (b'{"name": "\xff\xfe", "role": "finance", "region_code": "430000"}', "body"),
        (b'{"name": "x", "role": "finance", "region_code": ' + b"4" * 5000 + b"}", "region_code"),
    ],
)
async def test_bad_bodies_are_422_with_the_field(admin: Api, db: asyncpg.Pool, content: bytes, field: str) -> None:
    before = await db.fetchval("SELECT count(*) FROM gateway.principals")
    response = await admin.post("/admin/principals", content=content, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert PROBLEM_KEYS <= set(body) and body["code"] == "VALIDATION_ERROR"
    assert body["field"] == field
    assert await db.fetchval("SELECT count(*) FROM gateway.principals") == before


async def test_a_repeated_key_is_refused_and_changes_nothing(admin: Api, db: asyncpg.Pool) -> None:
    """S14: the last of two equal keys would win (a national admin key asked for as an inspector's)."""
    before = await db.fetchval("SELECT count(*) FROM gateway.principals")
    content = b'{"name": "x", "role": "inspector", "region_code": "430000", "role": "admin"}'
    response = await admin.post("/admin/principals", content=content, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert (response.json()["code"], response.json()["field"]) == ("DUPLICATE_KEY", "role")
    assert await db.fetchval("SELECT count(*) FROM gateway.principals") == before
    once = b'{"name": "x", "role": "inspector", "region_code": "430000"}'
    response = await admin.post("/admin/principals", content=once, headers={"content-type": "application/json"})
    assert response.status_code == 201, response.text


async def test_unknown_routes_and_methods(admin: Api) -> None:
    missing = await admin.get("/no/such/thing")
    assert missing.status_code == 404 and missing.json()["code"] == "NOT_FOUND"
    wrong_method = await admin.request("PATCH", "/audit")
    assert wrong_method.status_code == 405 and wrong_method.json()["code"] == "METHOD_NOT_ALLOWED"


async def test_bad_query_parameters(admin: Api) -> None:
    for params, field in (
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"since": "yesterday"}, "since"),
        ({"status": "99999"}, "status"),
    ):
        response = await admin.get("/audit", params=params)
        assert response.status_code == 422, params
        assert response.json()["field"] == field


async def test_request_id_is_propagated(admin: Api) -> None:
    response = await admin.get("/readyz", headers={"x-request-id": "client-chosen-id-42"})
    assert response.headers["x-request-id"] == "client-chosen-id-42"
    generated = await admin.get("/readyz")
    assert len(generated.headers["x-request-id"]) >= 16


async def test_a_database_that_refuses_the_connection_is_503_not_500(database: TestDatabase, db: asyncpg.Pool) -> None:
    """Issue #14: outside a unit of work too (the gateway's own routes), a connection the server refuses (here a role
    at its connection limit: SQLSTATE 53300) is 503 DATABASE_UNAVAILABLE with Retry-After, never a 500; any other
    error stays a 500."""
    role = f"ft_refused_{uuid.uuid4().hex[:8]}"
    await db.execute(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 0")
    url = make_url(database.url).set(drivername="postgresql+asyncpg", username=role, password=None)
    engine = create_async_engine(url)
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/refused")
    async def refused() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    @app.get("/broken")
    async def broken() -> None:
        raise RuntimeError("a bug")

    try:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            answer = await client.get("/refused")
            assert answer.status_code == 503, answer.text
            assert answer.json()["code"] == "DATABASE_UNAVAILABLE" and answer.headers["retry-after"] == "1"
            assert (await client.get("/broken")).status_code == 500
    finally:
        await engine.dispose()
        await db.execute(f"DROP ROLE {role}")

"""Bad input gets an RFC 9457 problem with a code and a field, never a 500, and changes nothing."""

import asyncpg
import pytest

from tests.conftest import Api

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

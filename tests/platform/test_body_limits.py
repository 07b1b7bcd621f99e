"""Body limits per route (issue #14): each route's limit (gateway/policy.py) is enforced at the door before the body
is forwarded: a Content-Length over it is 413 PAYLOAD_TOO_LARGE at once, a chunked body when it passes it; a body
of exactly the limit goes through. The refusal names the limit and changes nothing."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Mapping
from urllib.parse import urlsplit

import asyncpg
import pytest
from starlette.types import Message

from gateway.policy import IMPORT_BODY, JSON_BODY, SMALL_BODY, match
from gateway.proxy import BodyPace, TooLarge, read_body, stream_body
from tests.conftest import Api
from tests.stack import Stack


def padded(body: Mapping[str, object], size: int) -> bytes:
    """`body` as JSON of exactly `size` bytes (white space after it, which JSON allows)."""
    encoded = json.dumps(body, ensure_ascii=False).encode()
    assert len(encoded) <= size
    return encoded + b" " * (size - len(encoded))


async def chunks(body: bytes, size: int = 8192) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start:start + size]


def new_county() -> str:
    return f"43{secrets.randbelow(90) + 10}{secrets.randbelow(89) + 11}"  # 43xxyy, yy not 00: a county


def test_the_policy_gives_each_route_its_limit() -> None:
    """A JSON route takes 1 MiB, a small change 64 KiB, the import 1 GiB (streamed), a route without a body none."""
    assert (route := match("POST", "/funds/appropriations").route) is not None and route.max_body == JSON_BODY
    assert (route := match("POST", "/admin/principals").route) is not None and route.max_body == SMALL_BODY
    import_route = match("POST", "/registry/households/import").route
    assert import_route is not None and import_route.max_body == IMPORT_BODY and import_route.streamed
    assert (route := match("GET", "/funds/sources").route) is not None and route.max_body == 0


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_gateway_route_takes_its_limit_and_refuses_one_byte_more(
    admin: Api, db: asyncpg.Pool, chunked: bool
) -> None:
    name = f"limit-{secrets.token_hex(4)}"
    body = {"name": name, "role": "inspector", "region_code": "430000"}
    at_limit = padded(body, SMALL_BODY)
    headers = admin.headers({"content-type": "application/json"})
    over = padded({**body, "name": name + "-over"}, SMALL_BODY + 1)
    refused = await admin.client.post("/admin/principals", content=chunks(over) if chunked else over, headers=headers)
    assert refused.status_code == 413, refused.text
    assert (refused.json()["code"], refused.json()["limit_bytes"]) == ("PAYLOAD_TOO_LARGE", SMALL_BODY)
    assert refused.headers["content-type"] == "application/problem+json"
    assert await db.fetchval("SELECT count(*) FROM gateway.principals WHERE name = $1", name + "-over") == 0
    accepted = await admin.client.post(
        "/admin/principals", content=chunks(at_limit) if chunked else at_limit, headers=headers
    )
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["name"] == name


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_forwarded_route_takes_its_limit_and_refuses_one_byte_more(
    admin: Api, db: asyncpg.Pool, chunked: bool
) -> None:
    code = new_county()
    body = {"name": "限额县", "poor": True, "integration_pilot": False}
    headers = admin.headers({"content-type": "application/json"})
    over = padded(body, JSON_BODY + 1)
    refused = await admin.client.put(f"/funds/counties/{code}", content=chunks(over) if chunked else over,
                                     headers=headers)
    assert refused.status_code == 413, refused.text
    assert (refused.json()["code"], refused.json()["limit_bytes"]) == ("PAYLOAD_TOO_LARGE", JSON_BODY)
    assert await db.fetchval("SELECT count(*) FROM funds.counties WHERE code = $1", code) == 0
    at_limit = padded(body, JSON_BODY)
    accepted = await admin.client.put(f"/funds/counties/{code}", content=chunks(at_limit) if chunked else at_limit,
                                      headers=headers)
    assert accepted.status_code == 200, accepted.text
    assert await db.fetchval("SELECT count(*) FROM funds.counties WHERE code = $1", code) == 1


async def test_a_body_on_a_route_that_takes_none_is_413(admin: Api) -> None:
    refused = await admin.client.request("GET", "/funds/sources", content=b"{}", headers=admin.headers())
    assert refused.status_code == 413 and refused.json()["limit_bytes"] == 0
    assert (await admin.get("/funds/sources")).status_code == 200


async def test_an_import_declared_over_its_limit_is_refused_before_a_byte_is_sent(stack: Stack) -> None:
    """The roster import streams (1 GiB): a Content-Length over it is answered at once, the body never read (the
    client here sends none of it and still gets its answer)."""
    where = urlsplit(stack.gateway_url)
    reader, writer = await asyncio.open_connection(where.hostname, where.port)
    try:
        writer.write(
            f"POST /registry/households/import HTTP/1.1\r\nHost: {where.netloc}\r\n"
            f"Authorization: Bearer {stack.admin_token}\r\nContent-Type: text/csv\r\n"
            f"Content-Length: {IMPORT_BODY + 1}\r\n\r\n".encode()
        )
        await writer.drain()
        status = await asyncio.wait_for(reader.readline(), timeout=10)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
        lines = head.split(b"\r\n")
        length = next(int(line.split(b":")[1]) for line in lines if line.lower().startswith(b"content-length"))
        answer = json.loads(await asyncio.wait_for(reader.readexactly(length), timeout=10))
    finally:
        writer.close()
    assert status.split()[1] == b"413"
    assert (answer["code"], answer["limit_bytes"]) == ("PAYLOAD_TOO_LARGE", IMPORT_BODY)


def _messages(*parts: bytes) -> list[Message]:
    return [{"type": "http.request", "body": p, "more_body": i < len(parts) - 1} for i, p in enumerate(parts)]


def _receive(messages: list[Message]):
    async def receive() -> Message:
        return messages.pop(0)

    return receive


def _pace(limit: int) -> BodyPace:
    return BodyPace(limit=60, min_rate=0, grace=10, max_bytes=limit)


async def test_a_streamed_body_is_cut_off_when_it_passes_the_limit() -> None:
    """The import's stream counts as it forwards: at the limit it ends cleanly, a byte over fails the stream (so the
    upstream request is aborted, and the service commits nothing)."""
    whole = [c async for c in stream_body(_receive(_messages(b"12345", b"67890")), _pace(10))]
    assert b"".join(whole) == b"1234567890"
    pace = _pace(10)
    with pytest.raises(TooLarge) as caught:
        _ = [c async for c in stream_body(_receive(_messages(b"12345", b"67890", b"!")), pace)]
    assert caught.value.extra["limit_bytes"] == 10 and pace.failure is caught.value
    assert await read_body(_receive(_messages(b"1234", b"5")), limit=5, pace=_pace(5)) == b"12345"
    with pytest.raises(TooLarge):
        await read_body(_receive(_messages(b"1234", b"56")), limit=5, pace=_pace(5))

"""Issue #14 (1): a household import whose client goes away before the end of its body. The gateway streams the
body on to the registry; a client that closes the connection mid-body (before its declared Content-Length, or
before the chunked terminator) must abort the registry's request: nothing committed, no idempotency key stored, and
the same import sent again whole with the same key is imported whole. A partial roster would feed L1, F10 and P3."""

from __future__ import annotations

import asyncio
import socket
import uuid
from urllib.parse import urlsplit

import asyncpg
import pytest

from tests.conftest import Api
from tests.registry.factory import csv_body, id_number, new_county, row
from tests.stack import Stack

LINES = 20_000  # about 2 MB: streamed through the gateway in many reads


def _roster(county: str) -> bytes:
    rows = [row(county, head_id_number=id_number(county, birth=f"19{50 + i // 1000:02d}0101", serial=i % 1000))
            for i in range(LINES)]
    return csv_body(*rows)


def _send_part(stack: Stack, token: str, key: str, body: bytes, *, chunked: bool) -> None:
    """Send the import's headers and half its body, then close the connection."""
    url = urlsplit(stack.gateway_url)
    head = (f"POST /registry/households/import HTTP/1.1\r\nHost: {url.hostname}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: text/csv\r\nIdempotency-Key: {key}\r\n")
    half = body[: len(body) // 2]
    if chunked:
        payload = (head + "Transfer-Encoding: chunked\r\n\r\n").encode()
        for i in range(0, len(half), 65_536):
            piece = half[i : i + 65_536]
            payload += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    else:
        payload = (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + half
    with socket.create_connection((url.hostname or "127.0.0.1", url.port or 80), timeout=10) as conn:
        conn.sendall(payload)
        conn.shutdown(socket.SHUT_WR)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_an_import_cut_off_commits_nothing_and_is_repeated_whole_with_its_key(
    admin: Api, stack: Stack, db: asyncpg.Pool, chunked: bool
) -> None:
    county = new_county()
    body, key = _roster(county), f"cut-{uuid.uuid4().hex}"
    await asyncio.to_thread(_send_part, stack, stack.admin_token, key, body, chunked=chunked)
    await asyncio.sleep(2.0)  # time for a truncated body, taken as whole, to be merged and committed
    assert await db.fetchval("SELECT count(*) FROM registry.households WHERE county_code = $1", county) == 0
    again = await admin.post("/registry/households/import", content=body,
                             headers={"content-type": "text/csv", "idempotency-key": key}, timeout=120)
    assert again.status_code == 200, again.text
    assert again.json()["imported"] == LINES and again.json()["rejected_count"] == 0, again.json()
    assert await db.fetchval("SELECT count(*) FROM registry.households WHERE county_code = $1", county) == LINES

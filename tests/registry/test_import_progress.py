"""GET /registry/imports/{key}/progress (issue #19): how far an import under way has read, written outside its
transaction, so the importer sees it grow while the body arrives; the importer's alone (another principal, and a key
no import was sent with, get 404); a declared length gives a percentage."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
import httpx

from services.registry import progress
from services.registry.csvstream import physical_lines
from tests.conftest import Api, MakePrincipal
from tests.registry.api import IMPORT
from tests.registry.factory import HEADER, Row, csv_body, new_county, row

PART = 40  # lines per part of a slow upload
PARTS = 4
PAUSE = 1.2  # seconds between its parts: more than PROGRESS_SECONDS, so a part is written when it arrives


def _path(key: str) -> str:
    return f"/registry/imports/{key}/progress"


async def _in_parts(parts: list[list[Row]]) -> AsyncIterator[bytes]:
    yield (HEADER + "\n").encode()
    for part in parts:
        yield "".join(household.line() + "\n" for household in part).encode()
        await asyncio.sleep(PAUSE)


async def _watched(api: Api, key: str, sending: asyncio.Task[httpx.Response]) -> list[dict[str, Any]]:
    """The progress as the importer sees it every 0.2 s while its upload is sent (a 404 before the first write)."""
    seen: list[dict[str, Any]] = []
    while not sending.done():
        answer = await api.get(_path(key))
        if answer.status_code == 200:
            seen.append(answer.json())
        else:
            assert answer.status_code == 404 and not seen, answer.text
        await asyncio.sleep(0.2)
    return seen


async def test_the_importer_sees_its_import_grow_and_another_principal_gets_404(make_principal: MakePrincipal) -> None:
    county = new_county()
    importer = await make_principal("project_manager", county)
    colleague = await make_principal("project_manager", county)
    parts = [[row(county) for _ in range(PART)] for _ in range(PARTS)]
    key = f"progress-{uuid.uuid4().hex}"
    sending = asyncio.create_task(importer.post(
        IMPORT, content=_in_parts(parts), timeout=60, headers={"content-type": "text/csv", "idempotency-key": key}))
    await asyncio.sleep(PAUSE)
    hidden = await colleague.get(_path(key))
    assert hidden.status_code == 404 and hidden.json()["code"] == "NOT_FOUND"
    seen = await _watched(importer, key, sending)
    answer = await sending
    assert answer.status_code == 200, answer.text
    assert answer.json()["imported"] == PARTS * PART
    # while it ran: a count that only grew, seen at two places in the file at least; sent chunked, so no length
    running = [s for s in seen if not s["done"]]
    lines = [s["lines"] for s in running]
    assert lines == sorted(lines) and len({n for n in lines if n > 0}) >= 2, seen
    assert all(s["total_bytes"] is None and s["percent"] is None for s in running)
    await asyncio.sleep(0.3)  # the last write is not waited for by the import
    final = (await importer.get(_path(key))).json()
    assert (final["lines"], final["done"], final["percent"]) == (1 + PARTS * PART, True, 100)
    assert (await colleague.get(_path(key))).status_code == 404


async def test_a_declared_length_gives_the_percentage_and_the_rejected_lines_are_answered(
    make_principal: MakePrincipal,
) -> None:
    county = new_county()
    importer = await make_principal("project_manager", county)
    body = csv_body(row(county), row(county, status="rich"), row(county), row(county, members="0"))
    key = f"progress-{uuid.uuid4().hex}"
    answer = await importer.post(IMPORT, content=body, headers={"content-type": "text/csv", "idempotency-key": key})
    assert answer.status_code == 200, answer.text
    assert [(r["line"], r["code"]) for r in answer.json()["rejected"]] == [
        (3, "INVALID_STATUS"), (5, "INVALID_MEMBERS")]
    await asyncio.sleep(0.3)
    seen = (await importer.get(_path(key))).json()
    assert seen["total_bytes"] == len(body) == seen["bytes_read"]
    assert (seen["percent"], seen["done"], seen["key"]) == (100, True, key)


async def test_an_import_forgets_the_progress_of_imports_a_day_old(
    make_principal: MakePrincipal, db: asyncpg.Pool
) -> None:
    county = new_county()
    importer = await make_principal("project_manager", county)
    old, recent = f"old-{uuid.uuid4().hex}", f"recent-{uuid.uuid4().hex}"
    await db.executemany(
        "INSERT INTO registry.import_progress (principal_id, idempotency_key, lines, bytes_read, done, started_at, "
        "updated_at) VALUES ($1, $2, 1, 1, true, now() - $3::interval, now() - $3::interval)",
        [(importer.principal_id, old, timedelta(hours=25)), (importer.principal_id, recent, timedelta(hours=23))],
    )
    key = f"progress-{uuid.uuid4().hex}"
    answer = await importer.post(IMPORT, content=csv_body(row(county)),
                                 headers={"content-type": "text/csv", "idempotency-key": key})
    assert answer.status_code == 200, answer.text
    await asyncio.sleep(0.3)
    kept = await db.fetch("SELECT idempotency_key FROM registry.import_progress WHERE principal_id = $1",
                          importer.principal_id)
    assert {r["idempotency_key"] for r in kept} == {recent, key}
    assert (await importer.get(_path(old))).status_code == 404
    assert (await importer.get(_path(recent))).status_code == 200


async def test_a_key_no_import_was_sent_with_is_404(make_principal: MakePrincipal) -> None:
    importer = await make_principal("project_manager", new_county())
    unknown = await importer.get(_path(f"never-{uuid.uuid4().hex}"))
    assert unknown.status_code == 404 and unknown.json()["code"] == "NOT_FOUND"


async def test_a_role_that_may_not_import_reads_no_progress(make_principal: MakePrincipal) -> None:
    finance = await make_principal("finance", new_county())
    refused = await finance.get(_path("any"))
    assert refused.status_code == 403


def test_the_percentage_is_of_the_declared_length_and_100_only_once_read_whole() -> None:
    assert progress.percent(50, 200, done=False) == 25
    assert progress.percent(200, 200, done=False) == 99  # read whole but not yet through the last line
    assert progress.percent(200, 200, done=True) == 100
    assert progress.percent(50, None, done=False) is None
    assert progress.percent(0, 0, done=False) is None
    assert progress.percent(7, None, done=True) == 100


def test_the_declared_length_is_the_gateways_header_or_the_clients_own() -> None:
    assert progress.declared_length(httpx.Headers({"x-fundtrack-upload-length": "123"})) == 123
    assert progress.declared_length(httpx.Headers({"content-length": "45"})) == 45
    assert progress.declared_length(httpx.Headers({"content-length": "-1"})) is None
    assert progress.declared_length(httpx.Headers({})) is None


async def test_the_reader_of_the_lines_keeps_the_count_of_whole_lines_read() -> None:
    @dataclass
    class Read:
        lines: int = 0

    async def body() -> AsyncIterator[bytes]:
        yield b"header\nline 2\nline"
        yield b" 3\nline 4"  # the last line has no newline: counted once the body ends (progress.Progress)

    read, counts = Read(), []
    async for batch in physical_lines(body(), read):
        counts.append((batch.first, read.lines))
    assert counts == [(1, 2), (3, 3), (4, 3)]

"""The roster import: the CSV body streamed line by line, checked in Python, loaded with binary COPY into a
temporary staging table, then merged into the roster with set-based SQL, all in the request's transaction."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.errors import ValidationProblem
from services.kernel.identity import Principal
from services.registry import codes, sql
from services.registry.csvstream import BOM, Line, physical_lines, split_fields
from services.registry.rules import HEADER, MALFORMED, HouseholdLine, Row, accepted, header_problem, problem_of

REJECTED_CAP = 1000
log = logging.getLogger("fundtrack.registry.import")


@dataclass
class Rejections:
    """Every rejected line is counted; the first REJECTED_CAP (by line number) are kept for the answer."""

    cap: int = REJECTED_CAP
    count: int = 0
    items: list[dict[str, Any]] = field(default_factory=list)

    def add(self, line: int, code: str, detail: str) -> None:
        self.count += 1
        if len(self.items) < self.cap:
            self.items.append({"line": line, "code": code, "detail": detail})

    def merge(self, rows: Iterable[dict[str, Any]], total: int) -> None:
        """Add lines the database refused (the first `cap` of them by line number, and how many in all)."""
        self.items = sorted([*self.items, *rows], key=lambda item: int(item["line"]))[: self.cap]
        self.count += total


@dataclass
class ImportReport:
    import_id: str
    effective_on: date
    imported: int
    updated: int
    unchanged: int
    rejections: Rejections


async def drain(chunks: AsyncIterator[bytes]) -> None:
    """Read a refused body to its end, so the caller (the gateway streaming it) is never cut off mid-send."""
    async for _ in chunks:
        pass


async def read_header(batches: AsyncIterator[list[Line]], chunks: AsyncIterator[bytes]) -> list[Line]:
    """Check line 1 and return the rest of the first batch; a missing or wrong header refuses the whole file."""
    empty: list[Line] = []
    first = await anext(batches, empty)
    problem: str | None = "文件为空 / the file is empty: it must start with the header " + ",".join(HEADER)
    if first:
        header = first[0][1]
        if isinstance(header, str):
            fields = split_fields(header.removeprefix(BOM))
            problem = header_problem(fields) if isinstance(fields, list) else f"表头错误 / bad header: {fields[1]}"
        else:
            problem = f"表头无法读取 / the header cannot be read: {header[1]}"
    if problem is not None:
        await drain(chunks)
        raise ValidationProblem(problem, code=codes.INVALID_HEADER, field="body")
    return first[1:]


async def checked_lines(
    first: list[Line], batches: AsyncIterator[list[Line]], *, prefix: str, today: date, rejections: Rejections
) -> AsyncIterator[Row]:
    """The good lines, as staging rows; the bad ones go to `rejections` with their number and code."""

    def check(batch: list[Line]) -> list[Row]:
        good: list[Row] = []
        for number, content in batch:
            fields = split_fields(content) if isinstance(content, str) else content
            if isinstance(fields, list):
                if len(fields) == 1 and not fields[0]:
                    continue  # a blank line (a trailing newline, say) is no record
                row = accepted(number, fields, prefix, today)
                if row is not None:
                    good.append(row)
                    continue
                fields = problem_of(fields, prefix=prefix, today=today) or MALFORMED
            rejections.add(number, *fields)
        return good

    for row in check(first):
        yield row
    async for batch in batches:
        for row in check(batch):
            yield row


async def driver_connection(session: AsyncSession) -> Any:
    """The asyncpg connection under the session, inside the request's transaction (begun by a first statement)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


async def _refused_by_database(conn: Any, statement: str, *args: Any) -> tuple[list[dict[str, Any]], int]:
    rows = await conn.fetch(statement, *args)
    total = int(rows[0]["total"]) if rows else 0
    return [{"line": r["line"], "code": r["code"], "detail": r["detail"]} for r in rows], total


async def import_households(
    session: AsyncSession, *, principal: Principal, chunks: AsyncIterator[bytes], import_id: str
) -> ImportReport:
    today: date = (await session.execute(text(sql.TODAY))).scalar_one()
    conn = await driver_connection(session)
    batches = physical_lines(chunks)
    first = await read_header(batches, chunks)
    await conn.execute(sql.PREPARE)
    rejections = Rejections()
    lines = checked_lines(first, batches, prefix=principal.region_prefix, today=today, rejections=rejections)
    status = await conn.copy_records_to_table(sql.STAGING, records=lines, columns=HouseholdLine._fields)
    staged = int(status.split()[-1])
    copied_at = time.perf_counter()
    await conn.execute(sql.ANALYZE)
    await conn.execute(sql.LOCK)
    checks: list[tuple[str, tuple[Any, ...]]] = [(sql.DUPLICATES, (REJECTED_CAP,))]
    if principal.region_prefix:
        checks.append((sql.OUTSIDE_JURISDICTION, (principal.region_prefix, REJECTED_CAP)))
    for statement, args in checks:
        refused, total = await _refused_by_database(conn, statement, *args)
        rejections.merge(refused, total)
        staged -= total
    checked_at = time.perf_counter()
    merged = await conn.fetchrow(sql.MERGE, today, import_id)
    log.info(
        "import %s: %d lines staged, checks %.2f s, merge %.2f s",
        import_id, staged, checked_at - copied_at, time.perf_counter() - checked_at,
    )
    imported, updated = int(merged["imported"]), int(merged["updated"])
    report = ImportReport(import_id, today, imported, updated, staged - imported - updated, rejections)
    await conn.execute(
        sql.RECORD_IMPORT, import_id, principal.id, principal.region_code, today, imported, updated,
        report.unchanged, rejections.count,
    )
    return report

"""The roster import: the CSV body streamed and checked in Python; the good lines, a chunk at a time, loaded with
COPY while the next chunk is read, all in the request's transaction. A chunk of households the roster does not have
goes straight into it (one COPY: the common case of a first import); any other is COPYed into a temporary staging
table and merged into the roster with set-based SQL."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from asyncpg import UniqueViolationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel import clock
from services.kernel.errors import Problem
from services.kernel.identity import Principal
from services.kernel.scope import scope_prefix
from services.registry import problems, repository, rules
from services.registry.csvstream import BOM, Batch, LinesRead, physical_lines, split_fields, staging_record
from services.registry.fastpath import checked_batch
from services.registry.rules import (
    HEADER,
    MALFORMED,
    HouseholdLine,
    accepted,
    duplicate_problem,
    effective_date_problem,
    header_problem,
    import_lock_scopes,
    problem_of,
)
from services.registry.seen import SeenFilter

REJECTED_CAP = 1000
# Chunks COPYed straight into the roster in one import, at most: each runs in a savepoint, a subtransaction with an
# XID of its own, and PostgreSQL caches 64 of them per backend (PGPROC_MAX_CACHED_SUBXIDS). Past that, every other
# session's snapshot is "overflowed" and its visibility checks go through pg_subtrans while the import runs: the
# whole database slows. 60 chunks are 3,000,000 lines; the rest of a larger file is staged and merged (no savepoint).
MAX_COPIED_CHUNKS = 60
# Lines per COPY + merge: large enough that the per-chunk statements cost little, small enough to bound memory.
CHUNK_LINES = 50_000
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

    def merge(self, rows: Iterable[dict[str, Any]], total: int) -> int:
        """Add lines the database refused (the first `cap` of them by line number, and how many in all); returns
        how many."""
        self.items = sorted([*self.items, *rows], key=lambda item: int(item["line"]))[: self.cap]
        self.count += total
        return total


@dataclass
class ImportReport:
    import_id: str
    effective_on: date
    imported: int
    updated: int
    unchanged: int
    rejections: Rejections
    recorded_by_org: str | None = None  # issue #16 (O13): the importing organisation
    responsible_org: str | None = None


async def drain(chunks: AsyncIterator[bytes]) -> None:
    """Read a refused body to its end, so the caller (the gateway streaming it) is never cut off mid-send."""
    async for _ in chunks:
        pass


async def read_header(batches: AsyncIterator[Batch], chunks: AsyncIterator[bytes]) -> list[Batch]:
    """Check line 1 and return the rest of the first batch; a missing or wrong header refuses the whole file."""
    first = await anext(batches, None)
    problem: str | None = "文件为空 / the file is empty: it must start with the header " + ",".join(HEADER)
    rest: list[Batch] = []
    if first is not None:
        header_raw, newline, others = first.data.partition(b"\n")
        header = Batch(first.first, header_raw, first.too_long).lines()[0][1]
        if newline:
            rest.append(Batch(first.first + 1, others))
        if isinstance(header, str):
            fields = split_fields(header.removeprefix(BOM))
            problem = header_problem(fields) if isinstance(fields, list) else f"表头错误 / bad header: {fields[1]}"
        else:
            problem = f"表头无法读取 / the header cannot be read: {header[1]}"
    if problem is not None:
        await drain(chunks)
        raise problems.invalid_header(problem)
    return rest


@dataclass
class Chunk:
    """Checked lines for one COPY: CSV records (a string per batch, `line,` and the nine fields of each) and the
    first line of each household in it (a household twice in one chunk is refused here; across chunks, by the
    database)."""

    records: list[str] = field(default_factory=list)
    firsts: dict[str, int] = field(default_factory=dict)
    lines: int = 0
    first_line: int = 0  # the number of its first line: lines of earlier chunks have smaller numbers


async def checked_chunks(
    first: list[Batch], batches: AsyncIterator[Batch], *, prefix: str, today: date, rejections: Rejections
) -> AsyncIterator[Chunk]:
    """The good lines, CHUNK_LINES or so at a time; the bad ones and the repeats go to `rejections` with their
    number and code. A batch is checked at once when every line of it is good (fastpath.py), else line by line."""

    def check_lines(batch: Batch, chunk: Chunk) -> None:
        records: list[str] = []
        for number, content in batch:
            fields = split_fields(content) if isinstance(content, str) else content
            if isinstance(fields, list):
                if len(fields) == 1 and not fields[0]:
                    continue  # a blank line (a trailing newline, say) is no record
                if accepted(number, fields, prefix, today) is not None:
                    household_id = fields[0]
                    first_line = chunk.firsts.setdefault(household_id, number)
                    if first_line != number:
                        rejections.add(number, *duplicate_problem(household_id, first_line))
                        continue
                    records.append(staging_record(number, fields, plain='"' not in content))
                    continue
                fields = problem_of(fields, prefix=prefix, today=today) or MALFORMED
            rejections.add(number, *fields)
        chunk.records.append("".join(records))
        chunk.lines += len(records)

    def check(batch: Batch, chunk: Chunk) -> None:
        good = None if batch.too_long else checked_batch(batch.first, batch.data, prefix=prefix, today=today)
        if good is None:
            return check_lines(batch, chunk)
        ids = good.household_ids
        firsts = chunk.firsts
        if len(set(ids)) != len(ids) or not firsts.keys().isdisjoint(ids):
            return check_lines(batch, chunk)  # a household twice in this chunk: the first line is kept
        firsts.update(zip(ids, range(batch.first, batch.first + len(ids)), strict=True))
        chunk.records.append(good.records)
        chunk.lines += len(ids)

    chunk = Chunk(first_line=2)
    for batch in first:
        check(batch, chunk)
    async for batch in batches:
        check(batch, chunk)
        await asyncio.sleep(0)  # let the event loop move the merge of the previous chunk on to its next statement
        if chunk.lines >= CHUNK_LINES:
            yield chunk
            chunk = Chunk(first_line=batch.first + batch.count)
    if chunk.lines:
        yield chunk


@dataclass
class Merged:
    """What the chunks merged so far did."""

    staged: int = 0
    imported: int = 0
    updated: int = 0


@dataclass
class MergeState:
    """Across the chunks of one import: how many chunk tables so far, whether the next chunk is tried straight
    into the roster (the first is; then after a chunk of new households only), how many went so, and the ids of the
    staged chunks' households (a staged line repeating one of them is found through the staging table)."""

    import_id: str
    number: int  # household_imports.number, what the records of the households it writes refer to
    effective_on: date
    backdated: bool = False  # the roster stands for a day before today: lines must not rewrite later history
    chunks: int = 0
    all_new: bool = True
    copied: int = 0  # chunks COPYed straight into the roster so far
    seen: SeenFilter = field(default_factory=SeenFilter)

    def tries_copy(self) -> bool:
        """Whether the next chunk is tried straight into the roster: while the chunks are all new, and at most
        MAX_COPIED_CHUNKS of them (each is a subtransaction)."""
        return self.all_new and self.copied < MAX_COPIED_CHUNKS


async def copy_new(conn: Any, chunk: Chunk, state: MergeState) -> bool:
    """COPY the chunk straight into the roster, as new households registered by this import on their lines; False
    (and nothing written) when the roster already has one of them: a known household, or one an earlier chunk of
    this file registered (its unique id refuses it, in its county or another, and the chunk is staged and merged
    instead)."""
    data = "".join(chunk.records).replace("\n", f",{state.number},{state.number}\n").encode()
    return await repository.copy_into_roster(conn, data)


async def merge_chunk(conn: Any, chunk: Chunk, *, prefix: str, rejections: Rejections, state: MergeState) -> Merged:
    """One chunk: straight into the roster when every household of it is new; else COPY into a table of its own,
    refuse households of an earlier chunk and households of other jurisdictions, merge the rest."""
    if state.tries_copy() and await copy_new(conn, chunk, state):
        state.copied += 1
        return Merged(chunk.lines, chunk.lines, 0)
    state.chunks += 1
    table = await repository.create_chunk_table(conn, state.chunks)
    data = "".join(chunk.records).encode()
    # the filter's Python loop runs in a thread while the database takes the COPY (it is on this chunk's path)
    staged, maybe_seen = await asyncio.gather(
        repository.stage(conn, table, data, HouseholdLine._fields),
        asyncio.to_thread(state.seen.add_all, tuple(chunk.firsts)),
    )
    # each refusal deletes the lines it refuses from the chunk's table, so the merge sees only the rest
    if maybe_seen:
        staged -= rejections.merge(
            *await repository.refuse_earlier_duplicates(conn, table, maybe_seen, REJECTED_CAP, chunk.first_line)
        )
    if state.copied:
        staged -= rejections.merge(*await repository.refuse_registered_earlier(conn, table, state.number, REJECTED_CAP))
    if prefix:
        staged -= rejections.merge(*await repository.refuse_outside_jurisdiction(conn, table, prefix, REJECTED_CAP))
    if state.backdated:
        staged -= rejections.merge(
            *await repository.refuse_newer_history(conn, table, state.effective_on, REJECTED_CAP)
        )
    imported, updated = await repository.merge_chunk(
        conn, table, effective_on=state.effective_on, import_id=state.import_id, number=state.number
    )
    state.all_new = imported == staged
    return Merged(staged, imported, updated)


async def merge_while_reading(
    conn: Any,
    chunks: AsyncIterator[Chunk],
    *,
    prefix: str,
    state: MergeState,
    rejections: Rejections,
) -> Merged:
    """Each chunk is merged by the database while the next one is read and checked here (two cores at work); the
    connection runs one chunk at a time, in the request's transaction."""
    total = Merged()
    pending: asyncio.Task[Merged] | None = None
    try:
        async for chunk in chunks:
            if pending is not None:
                _add(total, await pending)
            pending = asyncio.create_task(
                merge_chunk(conn, chunk, prefix=prefix, rejections=rejections, state=state)
            )
        if pending is not None:
            _add(total, await pending)
    finally:
        if pending is not None and not pending.done():
            pending.cancel()
            with contextlib.suppress(BaseException):
                await pending
    return total


def _add(total: Merged, chunk: Merged) -> None:
    total.staged += chunk.staged
    total.imported += chunk.imported
    total.updated += chunk.updated


async def lock_scope(conn: Any, prefix: str) -> None:
    """S12: wait for the imports this one may not run beside (rules.import_lock_scopes), then hold them off."""
    above, own = import_lock_scopes(prefix)
    await repository.lock_scopes(conn, above, own)


async def import_households(
    session: AsyncSession,
    *,
    principal: Principal,
    chunks: AsyncIterator[bytes],
    import_id: str,
    effective_on: date | None = None,
    county: str | None = None,
    read: LinesRead | None = None,
) -> ImportReport:
    """Import a roster as it stood on `effective_on` (default today, in China): the status history of the
    households it changes is dated so. `county` (inside the caller's jurisdiction) narrows the import to that county:
    its lines elsewhere are refused, and it waits only for imports of that county or of a region holding it. `read`
    follows how many lines were read (the import's progress, progress.py)."""
    today = clock.today()
    conn = await repository.import_connection(session)  # COPY and the merge run in the request's transaction
    prefix = scope_prefix(principal, county, field="county")
    await lock_scope(conn, prefix)
    on = effective_on or today
    try:
        effective_date_problem(on, today=today)
    except Problem:
        await drain(chunks)
        raise
    batches = physical_lines(chunks, read)
    first = await read_header(batches, chunks)
    started = time.perf_counter()
    number = await repository.prepare(conn)
    rejections = Rejections()
    good = checked_chunks(first, batches, prefix=prefix, today=today, rejections=rejections)
    state = MergeState(import_id=import_id, number=number, effective_on=on, backdated=on < today)
    try:
        merged = await merge_while_reading(conn, good, prefix=prefix, state=state, rejections=rejections)
    except UniqueViolationError as exc:
        # An import of another county registered the same new household id while this one merged (each sees the
        # other's only once committed): nothing of this one is kept, and a retry finds the household registered.
        await drain(chunks)
        raise problems.import_conflict() from exc
    log.info("import %s: %d lines staged in %.2f s", import_id, merged.staged, time.perf_counter() - started)
    unchanged = merged.staged - merged.imported - merged.updated
    importing = principal.organisation
    report = ImportReport(import_id, on, merged.imported, merged.updated, unchanged, rejections,
                          recorded_by_org=importing, responsible_org=rules.responsible_org(importing_org=importing))
    await repository.record_import(
        conn, import_id=import_id, number=number, principal=principal, effective_on=on, imported=merged.imported,
        updated=merged.updated, unchanged=unchanged, rejected=rejections.count,
        recorded_by_org=report.recorded_by_org, responsible_org=report.responsible_org,
    )
    return report


"""Issue #20 point 3: a page of an export of the trail is read and encoded in one of the gateway's verifier
processes (each with its own connection, gateway/tree_check.py), not on the event loop that serves the other
requests: the loop only passes on the text the page became. Without verifier processes (verify_workers 0) a page is
read on the loop and encoded in a thread, as before."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, Literal

import asyncpg
from sqlalchemy import Select
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway import tree_check
from gateway.audit_records import Fields, csv_lines, jsonl_lines

Format = Literal["csv", "jsonl"]
ENCODERS: dict[str, Callable[[Sequence[Any]], str]] = {"csv": csv_lines, "jsonl": jsonl_lines}
_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class PageQuery:
    """A page's statement as asyncpg runs it ($1 placeholders), so that another process can run it."""

    sql: str
    params: tuple[Any, ...]


@dataclass(frozen=True)
class Page:
    text: str
    rows: int
    last_seq: int | None


def page_query(query: Select[Any]) -> PageQuery:
    compiled = query.compile(dialect=_DIALECT)
    values = compiled.construct_params()
    return PageQuery(compiled.string, tuple(values[name] for name in compiled.positiontup or ()))


async def read_page(conn: asyncpg.Connection, query: PageQuery, export_format: Format) -> Page:
    rows = [Fields(r) for r in await conn.fetch(query.sql, *query.params)]
    return Page(ENCODERS[export_format](rows), len(rows), rows[-1].seq if rows else None)


def run_page(query: PageQuery, export_format: Format) -> Page:
    """read_page in a verifier process."""
    return tree_check.on_worker_connection(lambda conn: read_page(conn, query, export_format))


PageReader = Callable[[Select[Any], Format], Awaitable["Page"]]


def page_reader(engine: AsyncEngine, workers: Executor | None) -> PageReader:
    """How this gateway reads an export's page: in its verifier processes when it has them."""

    async def in_worker(query: Select[Any], export_format: Format) -> Page:
        return await asyncio.get_running_loop().run_in_executor(workers, run_page, page_query(query), export_format)

    async def here(query: Select[Any], export_format: Format) -> Page:
        async with engine.connect() as conn:
            chunk = (await conn.execute(query)).all()
        text = await asyncio.to_thread(ENCODERS[export_format], chunk)
        return Page(text, len(chunk), chunk[-1].seq if chunk else None)

    return here if workers is None else in_worker

"""The audit trail (A1, A2), as the door records it: every request — reads and refusals included — goes into
`audit_inbox` by group commit, and a request's response waits for the batch that holds its entry, so no answer
leaves without its entry.

The rest of the trail: each service writes an entry for every committed change into its own outbox in the
change's transaction; the sequencer (gateway/sequencer.py) chains the inbox and those outboxes into `audit_log`,
and gateway/audit_chain.py is how an entry is hashed and the chain verified.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.models import AUDIT_FIELDS
from services.kernel import rawsql

log = logging.getLogger("fundtrack.audit")
BATCH = 2000  # entries written, staged or chained in one statement


def insert_sql(table: str, fields: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(fields)}) VALUES ({', '.join(f'${i}' for i in range(1, len(fields) + 1))})"


# Entries are written straight on asyncpg (kernel/rawsql.py): every request through the door waits for the inbox
# insert, and every entry is written twice (inbox, then log); SQLAlchemy's executemany cost more CPU than PostgreSQL.
INSERT_INBOX = insert_sql("audit_inbox", AUDIT_FIELDS)


def entry_rows(entries: list[dict[str, Any]], fields: tuple[str, ...] = AUDIT_FIELDS) -> list[list[Any]]:
    return [[e[f] for f in fields] for e in entries]


class AuditUnavailable(Exception):
    pass


class AuditWriter:
    """Group commit of door entries: many concurrent requests, one INSERT."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._pending: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._wake.set()
            while self._pending:
                await asyncio.sleep(0.01)
            self._task.cancel()

    async def record(self, entry: dict[str, Any]) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((entry, future))
        self._wake.set()
        await future

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch, self._pending = self._pending[:BATCH], self._pending[BATCH:]
                await self._write(batch)

    async def _write(self, batch: list[tuple[dict[str, Any], asyncio.Future[None]]]) -> None:
        """Write a batch in one round trip (asyncpg's executemany is atomic on its own: one implicit transaction).
        If the database refuses it, each entry is tried alone, so one entry it refuses fails its own request only,
        not every request that shared its batch."""
        try:
            async with self.engine.connect() as conn:
                await (await rawsql.driver(conn)).executemany(INSERT_INBOX, entry_rows([e for e, _ in batch]))
        except Exception as exc:
            if len(batch) > 1:
                log.warning("an audit batch of %d entries was refused (%s); writing them one by one", len(batch), exc)
                for one in batch:
                    await self._write([one])
                return
            log.exception("could not record an audit entry")
            for _, future in batch:
                if not future.done():
                    future.set_exception(AuditUnavailable(str(exc)))
            return
        for _, future in batch:
            if not future.done():
                future.set_result(None)

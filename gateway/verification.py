"""A2: one recomputation of the audit hash chain at a time. GET /audit/verify reads the whole trail from its
genesis; inspectors asking while a recomputation runs share its result instead of each reading the trail again (a
province's trail is millions of entries: fifty requests at once must not read it fifty times).

A full recomputation that finished less than `reuse_seconds` ago is reused (S14: back-to-back calls, 3.5 s each at
128k entries, raised the gateway's latency for everyone): only the entries chained since its head are verified, on
top of it, so the answer still counts every entry chained so far. Its `verified_at` is when that full recomputation
started reading; an entry changed before its head is found by the next full one, at most the window later. After
the window a request starts a full one again.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.audit_chain import Verification, verify_chain
from gateway.metrics import VERIFICATIONS


@dataclass(frozen=True)
class Verified:
    result: Verification
    verified_at: datetime  # when the full recomputation this answer rests on started
    finished: float  # time.monotonic() when that full recomputation ended


class SharedVerification:
    def __init__(self, engine: AsyncEngine, *, reuse_seconds: float = 0.0) -> None:
        self.engine = engine
        self.reuse_seconds = reuse_seconds
        self.running: asyncio.Task[Verified] | None = None
        self.last: Verified | None = None

    async def result(self) -> Verified:
        """The running verification's result, or a new one's: an extension of a recent full recomputation, or a
        full one. A caller that goes away does not cancel it for the others (shield); one that failed fails its
        callers, and the next call starts afresh."""
        if self.running is None or self.running.done():
            self.running = asyncio.create_task(self._run())
        return await asyncio.shield(self.running)

    async def _run(self) -> Verified:
        last = self.last
        if last is not None and time.monotonic() - last.finished < self.reuse_seconds:
            if not last.result.ok:
                return last  # a broken chain stays broken: nothing after its first bad entry is worth reading
            extended = await verify_chain(self.engine, since=last.result)
            self.last = Verified(extended, last.verified_at, last.finished)
            return self.last
        VERIFICATIONS.inc()
        started = datetime.now(UTC)
        result = await verify_chain(self.engine)
        self.last = Verified(result, started, time.monotonic())
        return self.last

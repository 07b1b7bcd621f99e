"""A2: one recomputation of the audit hash chain at a time. GET /audit/verify reads the whole trail from its
genesis; inspectors asking while a recomputation runs share its result instead of each reading the trail again (a
province's trail is millions of entries: fifty requests at once must not read it fifty times).

A recomputation that finished less than `reuse_seconds` ago is the answer too (S14: back-to-back calls, 3.5 s each at
128k entries, raised the gateway's latency for everyone); its `verified_at` says when it started reading. A request
after that window starts a new one, so an answer never predates the request by more than the window and a run.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.audit import Verification, verify_chain
from gateway.metrics import VERIFICATIONS


@dataclass(frozen=True)
class Verified:
    result: Verification
    verified_at: datetime
    finished: float  # time.monotonic() when the run ended


class SharedVerification:
    def __init__(self, engine: AsyncEngine, *, reuse_seconds: float = 0.0) -> None:
        self.engine = engine
        self.reuse_seconds = reuse_seconds
        self.running: asyncio.Task[Verified] | None = None
        self.last: Verified | None = None

    async def result(self) -> Verified:
        """A recent run's result, the running recomputation's, or a new one's. A caller that goes away does not
        cancel it for the others (shield); one that failed fails its callers, and the next call starts afresh."""
        last = self.last
        if last is not None and time.monotonic() - last.finished < self.reuse_seconds:
            return last
        if self.running is None or self.running.done():
            self.running = asyncio.create_task(self._run())
        return await asyncio.shield(self.running)

    async def _run(self) -> Verified:
        VERIFICATIONS.inc()
        started = datetime.now(UTC)
        result = await verify_chain(self.engine)
        self.last = Verified(result, started, time.monotonic())
        return self.last

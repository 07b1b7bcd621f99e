"""A2: one recomputation of the audit hash chain at a time. GET /audit/verify reads the whole trail from its
genesis; inspectors asking while a recomputation runs share its result instead of each reading the trail again (a
province's trail is millions of entries: fifty requests at once must not read it fifty times). A request that
arrives after one finished starts a new one, so an answer never predates the request by more than the run it joined.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.audit import Verification, verify_chain
from gateway.metrics import VERIFICATIONS


class SharedVerification:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.running: asyncio.Task[Verification] | None = None

    async def result(self) -> Verification:
        """The running recomputation's result, or a new one's. A caller that goes away does not cancel it for the
        others (shield); one that failed fails its callers, and the next call starts afresh."""
        if self.running is None or self.running.done():
            self.running = asyncio.create_task(self._run())
        return await asyncio.shield(self.running)

    async def _run(self) -> Verification:
        VERIFICATIONS.inc()
        return await verify_chain(self.engine)

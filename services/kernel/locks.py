"""Named locks held until the transaction ends: PostgreSQL's advisory locks on a 64-bit hash of a name (a service's
prefix, what is locked, its key: "funds:basis:<contract>"), for what no row can be locked for — a row not written
yet (a household's first loan, a project's first arrangement), or a rule over many rows (a household's cap, a plan
and every arrangement of its year). Taken in one order where a request takes several (no deadlock); a shared hold
excludes only exclusive ones (many arrangements at once, none while their plan is reported)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession


async def hold(session: AsyncSession, name: str, *, shared: bool = False) -> None:
    """Hold the lock `name` until the session's transaction ends, waiting for a conflicting holder to end its."""
    lock = func.pg_advisory_xact_lock_shared if shared else func.pg_advisory_xact_lock
    await session.execute(select(lock(func.hashtextextended(name, 0))))

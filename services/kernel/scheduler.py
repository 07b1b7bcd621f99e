"""Each service runs its detectors by itself once a day. An advisory lock makes one process do it when several
run; the run writes an audit outbox entry as the `system` principal, so the trail shows it."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from services.kernel import clock
from services.kernel.alerts import DetectorRegistry
from services.kernel.alerts_scan import run_detectors
from services.kernel.models import AuditOutbox

log = logging.getLogger("fundtrack.scheduler")


def seconds_until(hour: int, now: datetime) -> float:
    target = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    if target <= now:
        target += timedelta(days=1)
    return (target - now).total_seconds()


def _lock_key(service: str) -> int:
    return int.from_bytes(hashlib.sha256(f"detectors:{service}".encode()).digest()[:8], "big", signed=True)


async def daily_scan(state: Any, registry: DetectorRegistry, *, service: str, as_of: date) -> None:
    async with state.sessions() as session:
        got = (await session.execute(select(func.pg_try_advisory_xact_lock(_lock_key(service))))).scalar_one()
        if not got:
            return
        # a service principal's run: national (S2 scopes the scans principals ask for, not this one)
        result = await run_detectors(session, registry, service=service, as_of=as_of, state=state, region_prefix="")
        session.add(
            AuditOutbox(
                request_id=f"daily-{service}-{as_of.isoformat()}",
                principal_id="system",
                role="service",
                region_code="000000",
                method="TASK",
                path=f"/{service}/detectors/daily",
                query=f"as_of={as_of.isoformat()}",
                entity_ids=[],
                body_sha256="",
                status=200,
            )
        )
        await session.commit()
        log.info("daily detectors ran", extra={"fields": {
            "raised": result.raised, "updated": result.updated, "seconds": result.seconds, "as_of": as_of.isoformat()}})


async def run_daily(state: Any, registry: DetectorRegistry, *, service: str, hour: int) -> None:
    while True:
        await asyncio.sleep(seconds_until(hour, clock.now()))
        try:
            await daily_scan(state, registry, service=service, as_of=clock.today())
        except Exception:
            log.exception("daily detector run failed; it runs again tomorrow or on POST /alerts/scan")

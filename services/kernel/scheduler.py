"""Each service runs its detectors by itself once a day. An advisory lock makes one process do it when several
run; the run writes an audit outbox entry as the `system` principal, so the trail shows it."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text

from services.kernel import clock
from services.kernel.alerts import DetectorRegistry
from services.kernel.alerts_scan import run_detectors
from services.kernel.alerts_schemas import ScanOut
from services.kernel.db import long_statements_sql
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
    """The daily run: national, one process at a time (an advisory lock, held by a transaction of its own to the end
    of the run), each detector and its alerts in a short transaction of their own, so a run's writes do not wait for
    its slowest detector and a detector that fails loses only its own alerts (it is logged; the others still run)."""
    async with state.sessions() as lock:
        got = (await lock.execute(select(func.pg_try_advisory_xact_lock(_lock_key(service))))).scalar_one()
        if not got:
            return
        result = ScanOut(raised={}, updated={})
        for name in registry.detectors:
            try:
                async with state.sessions() as session:
                    await session.execute(text(long_statements_sql()))
                    # a service principal's run: national (S2 scopes the scans principals ask for, not this one)
                    part = await run_detectors(session, registry, service=service, as_of=as_of, state=state,
                                               region_prefix="", only=name)
                    await session.commit()
            except Exception:
                log.exception("a daily detector failed; the others ran", extra={"fields": {"detector": name}})
                continue
            for total, counts in ((result.raised, part.raised), (result.updated, part.updated)):
                for kind, count in counts.items():
                    total[kind] = total.get(kind, 0) + count
            result.seconds[name] = part.seconds.get(name, 0.0)
            result.seconds[f"{name}.raise_alerts"] = part.seconds.get("raise_alerts", 0.0)
        lock.add(
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
        await lock.commit()
        log.info("daily detectors ran", extra={"fields": {
            "raised": result.raised, "updated": result.updated, "seconds": result.seconds, "as_of": as_of.isoformat()}})


async def run_daily(state: Any, registry: DetectorRegistry, *, service: str, hour: int) -> None:
    while True:
        await asyncio.sleep(seconds_until(hour, clock.now()))
        try:
            await daily_scan(state, registry, service=service, as_of=clock.today())
        except Exception:
            log.exception("daily detector run failed; it runs again tomorrow or on POST /alerts/scan")

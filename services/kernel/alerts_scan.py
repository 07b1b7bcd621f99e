"""A scan: every detector of a service run as of a date, its drafts kept to the scan's jurisdiction and raised.

S2: a scan asked for by a principal (POST /alerts/scan) is as of a day not after today, and raises or updates only
alerts whose region its jurisdiction covers (the daily run is national); and an open alert's facts only move forward
in time (alerts_store.raise_alerts).
"""

from __future__ import annotations

import logging
import time
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.alerts import AlertDraft, DetectorContext, DetectorRegistry
from services.kernel.alerts_schemas import ScanOut
from services.kernel.alerts_store import raise_alerts
from services.kernel.regions import under

log = logging.getLogger("fundtrack.detectors")


def in_scope(drafts: list[AlertDraft], region_prefix: str) -> list[AlertDraft]:
    """S2: the drafts a scan of this jurisdiction may raise or update (a subject spanning counties, such as a
    cooperative reached from two counties, has its alert at their common region, out of a county's reach)."""
    return [d for d in drafts if under(d.region_code, region_prefix)]


async def run_detectors(
    session: AsyncSession,
    registry: DetectorRegistry,
    *,
    service: str,
    as_of: date,
    state: Any,
    region_prefix: str = "",
    only: str | None = None,
) -> ScanOut:
    """Every detector of the registry (or the one named `only`), then their drafts raised in the session's
    transaction; each detector's seconds and raise_alerts's in the answer and the log."""
    drafts: list[AlertDraft] = []
    seconds: dict[str, float] = {}
    context = DetectorContext(session=session, as_of=as_of, state=state, region_prefix=region_prefix)
    chosen = {n: d for n, d in registry.detectors.items() if only is None or n == only}
    for name, detector in chosen.items():
        started = time.perf_counter()
        drafts.extend(in_scope(await detector(context), region_prefix))
        seconds[name] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    result = await raise_alerts(session, drafts, service=service, as_of=as_of)
    seconds["raise_alerts"] = round(time.perf_counter() - started, 3)
    for name in chosen:
        result.raised.setdefault(name, 0)
    result.seconds = seconds
    log.info("detectors ran", extra={"fields": {"service": service, "as_of": as_of.isoformat(), "seconds": seconds}})
    return result

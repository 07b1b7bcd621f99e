"""Alerts for the console's alerts tests, stored as the services store them (each service's `alerts` table, as
tests/platform/test_alerts.py plants them): a type of the module's own so counts are exact, and real types with
their detectors' facts for the sentences."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from services.kernel.ids import new_id

HUNAN_COUNTY, GUIZHOU_COUNTY = "430523", "520121"


async def store_alert(
    db: asyncpg.Pool, service: str, region: str, type_: str, facts: dict[str, Any], *,
    severity: str = "high", status: str = "open", subject_kind: str = "test", subject_id: str | None = None,
    minutes_ago: int = 0,
) -> str:
    alert_id = new_id(f"alert-{service}")
    await db.execute(
        f"INSERT INTO {service}.alerts (id, type, severity, region_code, subject_kind, subject_id, raised_at, as_of,"
        " status, facts) VALUES ($1, $2, $3, $4, $5, $6, $7, '2026-01-01', $8, $9)",
        alert_id, type_, severity, region, subject_kind, subject_id or uuid.uuid4().hex,
        datetime.now(UTC) - timedelta(minutes=minutes_ago), status, json.dumps(facts),
    )
    return alert_id


@dataclass
class World:
    kind: str  # this module's own type
    ids: dict[str, str] = field(default_factory=dict)


IDLE_FACTS = {"amount": 1_234_567, "amount_fen": 1_234_567, "balance_fen": 2_000_000, "since": "2026-01-01",
              "account": "pool", "fund_source": "central_poverty", "project_id": None, "threshold_days": 90}


async def plant(db: asyncpg.Pool) -> World:
    world = World("CONSOLE_" + uuid.uuid4().hex[:8].upper())
    own = {"console": True}
    world.ids["funds_hunan"] = await store_alert(db, "funds", HUNAN_COUNTY, world.kind, own, minutes_ago=3)
    world.ids["funds_hunan_ack"] = await store_alert(db, "funds", HUNAN_COUNTY, world.kind, own,
                                                     status="acknowledged", severity="low", minutes_ago=2)
    world.ids["projects_hunan"] = await store_alert(db, "projects", HUNAN_COUNTY + "101001", world.kind, own,
                                                    severity="medium", minutes_ago=1)
    world.ids["funds_guizhou"] = await store_alert(db, "funds", GUIZHOU_COUNTY, world.kind, own)
    world.ids["idle"] = await store_alert(db, "funds", HUNAN_COUNTY, "IDLE_FUNDS", IDLE_FACTS, severity="medium",
                                          subject_kind="account", subject_id=f"{HUNAN_COUNTY}:pool:{uuid.uuid4().hex}")
    world.ids["idle_guizhou"] = await store_alert(db, "funds", GUIZHOU_COUNTY, "IDLE_FUNDS", IDLE_FACTS,
                                                  severity="medium", subject_kind="account")
    loan = f"loan_{uuid.uuid4().hex[:12]}"
    world.ids["loan"] = await store_alert(db, "loans", HUNAN_COUNTY, "LOAN_OVERDUE", {
        "loan_id": loan, "household_id": "hh_x", "bucket": "31-90", "outstanding_fen": 500_000,
        "maturity_on": "2026-09-01", "extended": False, "rule": "L5"}, subject_kind="loan", subject_id=loan)
    world.ids["mystery"] = await store_alert(db, "registry", HUNAN_COUNTY, world.kind + "_X", {"weird_fen": 150})
    return world

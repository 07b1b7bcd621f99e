"""Issue #16 point 4, first half: CASE_OVERDUE, raised by the oversight service's detector (the kernel's alert
mechanism) for a case past its deadline without accepted rectification; not for one still in time, nor for one
accepted or referred; subject the case, naming the responsible organisation."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import asyncpg

from services.kernel import clock
from services.oversight.rules import overdue
from tests.conftest import Api, scan_alerts
from tests.oversight.conftest import COUNTY, OTHER_COUNTY, Site, ok

PAST = date(2020, 1, 1)


async def _left_past_its_deadline(site: Site, db: asyncpg.Pool) -> str:
    """A case assigned with a deadline long gone: the assignment written as the service writes it, dated back
    (the API refuses a deadline that is not in the future, O3, and the clock cannot be turned back in a process)."""
    case = await site.open(("funds", await site.alert()))
    await db.execute(
        "INSERT INTO oversight.case_events (case_id, seq, action, state, organisation_id, deadline, "
        "principal_id, principal_organisation_id) VALUES ($1, 2, 'assigned', 'assigned', $2, $3, $4, '')",
        case["id"], site.bureau, PAST, site.inspector.principal_id)
    return str(case["id"])


async def _overdue_ids(api: Api) -> dict[str, dict[str, Any]]:
    alerts = ok(await api.get("/alerts", params={"type": "CASE_OVERDUE", "limit": 500}))["items"]
    return {a["subject"]["id"]: a for a in alerts}


async def test_a_case_past_its_deadline_raises_case_overdue(site: Site, db: asyncpg.Pool) -> None:
    late = await _left_past_its_deadline(site, db)
    answered = await _left_past_its_deadline(site, db)
    ok(await site.cashier.post(f"/oversight/cases/{answered}/rectifications", json={"note": "已整改"}))
    accepted = await _left_past_its_deadline(site, db)
    ok(await site.cashier.post(f"/oversight/cases/{accepted}/rectifications", json={"note": "已整改"}))
    ok(await site.inspector.post(f"/oversight/cases/{accepted}/accept", json={"note": "ok"}))
    in_time = (await site.assigned())["id"]

    await scan_alerts(site.inspector, clock.today().isoformat())
    raised = await _overdue_ids(site.inspector)
    assert late in raised and answered in raised  # submitted but not accepted is still overdue
    assert accepted not in raised and in_time not in raised
    alert = raised[late]
    assert alert["region_code"] == COUNTY and alert["severity"] == "high"
    assert alert["facts"] == {"deadline": PAST.isoformat(), "state": "assigned",
                              "responsible_organisation_id": site.bureau, "title": "向非贫困户拨付补助"}
    assert alert["subject"]["responsible_org"] == site.bureau  # O13: the organisation the case is assigned to
    assert late not in await _overdue_ids(site.other_inspector)  # another county's inspectors do not see it


async def test_a_scan_as_of_the_deadline_itself_raises_nothing(site: Site, db: asyncpg.Pool) -> None:
    late = await _left_past_its_deadline(site, db)
    other = await site.make_principal("inspector", OTHER_COUNTY)
    await scan_alerts(other, clock.today().isoformat())  # S2: another county's scan does not reach it
    assert late not in await _overdue_ids(site.inspector)
    await scan_alerts(site.inspector, PAST.isoformat())
    assert late not in await _overdue_ids(site.inspector)
    await scan_alerts(site.inspector, (PAST + timedelta(days=1)).isoformat())
    assert late in await _overdue_ids(site.inspector)


def test_overdue_is_past_the_deadline_before_acceptance() -> None:
    deadline = date(2026, 3, 1)
    assert overdue("assigned", deadline, deadline + timedelta(days=1))
    assert overdue("returned", deadline, deadline + timedelta(days=1))
    assert not overdue("assigned", deadline, deadline)
    assert not overdue("accepted", deadline, deadline + timedelta(days=30))
    assert not overdue("referred", deadline, deadline + timedelta(days=30))
    assert not overdue("open", None, deadline)

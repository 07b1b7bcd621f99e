"""Issue #16 point 4, second half: REPEATED_MISUSE (rule O9), raised by the oversight service's detector when one
organisation has cases of the same alert type opened in two or more distinct calendar quarters of the last four
(the scan's quarter and the three before it); subject the organisation, facts naming the type, quarters and cases."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from typing import Any

import asyncpg

from services.kernel import clock
from services.kernel.ids import new_id
from services.oversight.rules import case_types, quarter_of, repeat_window_start, repeated_types
from tests.conftest import Api, scan_alerts
from tests.oversight.conftest import CITY, COUNTY, OTHER_COUNTY, Site, ok, organisation

AS_OF = date(2025, 11, 15)  # 2025Q4: the last four quarters are 2025Q1..2025Q4


async def _case(site: Site, db: asyncpg.Pool, organisation_id: str, opened_on: date, *types: str,
                region: str = COUNTY, complaint: str = "") -> str:
    """A case opened on `opened_on` (noon in China) from alerts of `types` (or a complaint), assigned to
    `organisation_id`: the rows written as the service writes them, dated back (a case is opened today through the
    API, and the clock cannot be turned back in a process)."""
    case_id = new_id("case")
    at = datetime.combine(opened_on, time(12), clock.CHINA).astimezone(UTC)
    async with db.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO oversight.cases (id, region_code, title, complaint_ref, severity, money_involved_fen, "
            "principal_id, principal_organisation_id, at) VALUES ($1, $2, '重复问题', $3, 'high', 0, $4, '', $5)",
            case_id, region, complaint, site.inspector.principal_id, at)
        for type_ in types:
            await conn.execute(
                "INSERT INTO oversight.case_alerts (service, alert_id, case_id, alert_type, alert_severity, "
                "alert_region_code) VALUES ('funds', $1, $2, $3, 'high', $4)",
                f"alert-funds_{uuid.uuid4().hex[:26]}", case_id, type_, region)
        for seq, action in ((1, "opened"), (2, "assigned")):
            await conn.execute(
                "INSERT INTO oversight.case_events (case_id, seq, action, state, organisation_id, deadline, "
                "principal_id, principal_organisation_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7, '', $8)",
                case_id, seq, action, "open" if seq == 1 else "assigned", "" if seq == 1 else organisation_id,
                None if seq == 1 else opened_on, site.inspector.principal_id, at)
    return case_id


async def _repeated(api: Api) -> dict[str, dict[str, Any]]:
    alerts = ok(await api.get("/alerts", params={"type": "REPEATED_MISUSE", "limit": 500}))["items"]
    return {a["subject"]["id"]: a for a in alerts}


async def test_cases_of_one_type_in_two_quarters_raise_repeated_misuse(site: Site, db: asyncpg.Pool) -> None:
    bureau, same_quarter, too_old, later, other = (
        [await organisation(site.admin, "finance_bureau", COUNTY) for _ in range(5)])
    summer = await _case(site, db, bureau, date(2025, 8, 10), "INELIGIBLE_PAYEE")
    autumn = await _case(site, db, bureau, date(2025, 11, 1), "INELIGIBLE_PAYEE", "DUPLICATE_PAYMENT")
    await _case(site, db, bureau, date(2025, 5, 1), "IDLE_FUNDS")  # another type, once: not named
    await _case(site, db, same_quarter, date(2025, 10, 5), "INELIGIBLE_PAYEE")
    await _case(site, db, same_quarter, date(2025, 11, 10), "INELIGIBLE_PAYEE")
    await _case(site, db, too_old, date(2024, 12, 20), "INELIGIBLE_PAYEE")  # 2024Q4: four quarters back
    await _case(site, db, too_old, date(2025, 11, 1), "INELIGIBLE_PAYEE")
    await _case(site, db, later, date(2025, 8, 10), "INELIGIBLE_PAYEE")
    await _case(site, db, later, date(2025, 11, 16), "INELIGIBLE_PAYEE")  # after the scan's day
    await _case(site, db, other, date(2025, 8, 10), "INELIGIBLE_PAYEE")  # with `bureau`'s, two organisations

    await scan_alerts(site.inspector, AS_OF.isoformat())
    raised = await _repeated(site.inspector)
    assert bureau in raised
    assert same_quarter not in raised and too_old not in raised and later not in raised and other not in raised
    alert = raised[bureau]
    assert alert["region_code"] == COUNTY and alert["severity"] == "high"
    assert alert["subject"] == {"kind": "organisation", "id": bureau, "responsible_org": bureau}  # O13
    assert alert["facts"] == {
        "organisation_id": bureau, "since_quarter": "2025Q1", "until_quarter": "2025Q4",
        "alert_types": [{"alert_type": "INELIGIBLE_PAYEE", "quarters": ["2025Q3", "2025Q4"],
                         "case_ids": sorted([summer, autumn])}],
    }
    # O6/S2: the county's and the city's inspectors see it, another county's do not
    assert bureau in await _repeated(site.city_inspector)
    assert bureau not in await _repeated(site.other_inspector)


async def test_complaints_repeat_too_and_an_alert_over_two_counties_lies_at_their_city(
    site: Site, db: asyncpg.Pool
) -> None:
    complained = await organisation(site.admin, "poverty_office", COUNTY)
    first = await _case(site, db, complained, date(2025, 4, 2), complaint="信访〔2025〕3号")
    second = await _case(site, db, complained, date(2025, 10, 9), complaint="信访〔2025〕41号")
    city_bureau = await organisation(site.admin, "finance_bureau", CITY)
    await _case(site, db, city_bureau, date(2025, 7, 1), "LATE_PASS_DOWN", region=COUNTY)
    await _case(site, db, city_bureau, date(2025, 11, 2), "LATE_PASS_DOWN", region=OTHER_COUNTY)

    await scan_alerts(site.inspector, AS_OF.isoformat())  # a county's scan: the city's alert is out of its reach
    raised = await _repeated(site.inspector)
    assert raised[complained]["facts"]["alert_types"] == [
        {"alert_type": "COMPLAINT", "quarters": ["2025Q2", "2025Q4"], "case_ids": sorted([first, second])}]
    assert city_bureau not in await _repeated(site.city_inspector)
    await scan_alerts(site.city_inspector, AS_OF.isoformat())
    seen = await _repeated(site.city_inspector)
    assert seen[city_bureau]["region_code"] == CITY
    assert city_bureau not in await _repeated(site.inspector)
    assert city_bureau not in await _repeated(site.other_inspector)


def test_the_last_four_quarters_and_a_cases_types() -> None:
    assert repeat_window_start(date(2025, 11, 15)) == date(2025, 1, 1)
    assert repeat_window_start(date(2026, 1, 1)) == date(2025, 4, 1)
    assert repeat_window_start(date(2026, 6, 30)) == date(2025, 7, 1)
    assert [quarter_of(date(2026, m, 1)) for m in (1, 3, 4, 9, 10, 12)] == [
        "2026Q1", "2026Q1", "2026Q2", "2026Q3", "2026Q4", "2026Q4"]
    assert case_types(["B", "A", "B"], "") == ["A", "B"]
    assert case_types([], "投诉1") == ["COMPLAINT"]
    # a case opened from a public complaint's own alert (O12) is one complaint, not two types
    assert case_types(["PUBLIC_COMPLAINT"], "cmp_1") == ["COMPLAINT"]
    assert case_types(["PUBLIC_COMPLAINT", "INELIGIBLE_PAYEE"], "") == ["COMPLAINT", "INELIGIBLE_PAYEE"]
    as_of = date(2026, 2, 1)
    assert repeated_types([("c1", date(2025, 5, 1), ["T"]), ("c2", date(2026, 1, 5), ["T"])], as_of) == {
        "T": {"quarters": ["2025Q2", "2026Q1"], "case_ids": ["c1", "c2"]}}
    assert repeated_types([("c1", date(2025, 3, 31), ["T"]), ("c2", date(2026, 1, 5), ["T"])], as_of) == {}
    assert repeated_types([("c1", date(2026, 1, 2), ["T"]), ("c2", date(2026, 1, 5), ["T"])], as_of) == {}
    assert repeated_types([("c1", date(2025, 5, 1), ["T"]), ("c2", date(2026, 2, 2), ["T"])], as_of) == {}

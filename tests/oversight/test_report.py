"""Issue #16 point 4, the report (rule O11): GET /oversight/report?region=&from=&to=, the figures an inspection
office reports upward, by responsible organisation, computed from cases moved through the gateway; another county's
cases not counted; a city inspector's report holds its counties' organisations; bad input a 422 naming the field."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import asyncpg

from services.kernel import clock
from services.oversight.rules import MEASURES, Step, standing
from tests.conftest import Api
from tests.oversight.conftest import CITY, COUNTY, OTHER_COUNTY, Site, member, ok, organisation, refused

PAST = date(2020, 1, 1)


async def _assign_past(site: Site, db: asyncpg.Pool, case_id: str, organisation_id: str) -> None:
    """The case assigned with a deadline long gone: the assignment written as the service writes it (the API
    refuses a deadline that is not in the future, O3)."""
    await db.execute(
        "INSERT INTO oversight.case_events (case_id, seq, action, state, organisation_id, deadline, "
        "principal_id, principal_organisation_id) VALUES ($1, 2, 'assigned', 'assigned', $2, $3, $4, '')",
        case_id, organisation_id, PAST, site.inspector.principal_id)


async def _report(api: Api, region: str, start: date | None = None, end: date | None = None) -> dict[str, Any]:
    today = clock.today()
    return ok(await api.get("/oversight/report", params={
        "region": region, "from": (start or today).isoformat(), "to": (end or today).isoformat()}))


def _row(report: dict[str, Any], organisation_id: str) -> dict[str, Any] | None:
    return next((r for r in report["organisations"] if r["organisation_id"] == organisation_id), None)


def _figures(**given: Any) -> dict[str, Any]:
    measures = dict.fromkeys(MEASURES, 0) | given.pop("accountability", {})
    return {"opened": 0, "closed_on_time": 0, "overdue": 0, "referred": 0, "accountability": measures,
            "money_involved_fen": 0, "money_recovered_fen": 0, **given}


async def test_the_report_counts_what_the_cases_say(site: Site, db: asyncpg.Pool) -> None:
    bureau = await organisation(site.admin, "finance_bureau", COUNTY)
    cashier = await member(site.admin, site.http, "finance", COUNTY, bureau)
    inspector = site.inspector

    async def opened(money: int) -> str:
        return str((await site.open(("funds", await site.alert()), money=money))["id"])

    async def move(case_id: str, action: str, body: dict[str, Any], status: int = 200) -> None:
        who = cashier if action == "rectifications" else inspector
        ok(await who.post(f"/oversight/cases/{case_id}/{action}", json=body), status)

    measure = {"person_name": "王某", "person_post": "股长", "decided_on": clock.today().isoformat(),
               "decision_number": "县纪〔2026〕9号"}
    on_time = await opened(100_000)  # accepted in time, accountability, closed
    await move(on_time, "assign", {"organisation_id": bureau})
    await move(on_time, "rectifications", {"note": "已追回", "money_recovered_fen": 60_000})
    await move(on_time, "accept", {"note": "到位"})
    await move(on_time, "accountability", {**measure, "measure": "通报批评"}, 201)
    await move(on_time, "close", {"note": "结案"})
    referred = await opened(200_000)  # referred, accountability
    await move(referred, "assign", {"organisation_id": bureau})
    await move(referred, "refer", {"organisation_id": site.county_commission, "note": "移送"})
    await move(referred, "accountability", {**measure, "measure": "党纪处分"}, 201)
    late = await opened(30_000)  # past its deadline, unanswered
    await _assign_past(site, db, late, bureau)
    closed_late = await opened(40_000)  # accepted after its deadline, closed
    await _assign_past(site, db, closed_late, bureau)
    await move(closed_late, "rectifications", {"note": "迟交", "money_recovered_fen": 5_000})
    await move(closed_late, "accept", {"note": "到位"})
    await move(closed_late, "close", {"note": "结案"})
    in_time = await opened(7_000)  # assigned, answered, still in time: opened only
    await move(in_time, "assign", {"organisation_id": bureau})
    await move(in_time, "rectifications", {"note": "整改中"})

    expected = _figures(opened=5, closed_on_time=1, overdue=2, referred=1,
                        accountability={"通报批评": 1, "党纪处分": 1}, money_involved_fen=377_000,
                        money_recovered_fen=65_000)
    report = await _report(inspector, COUNTY)
    assert report["region_code"] == COUNTY and report["as_of"] == clock.today().isoformat()
    assert _row(report, bureau) == {"organisation_id": bureau, **expected}
    totals = report["totals"]
    assert all(totals[k] >= v for k, v in expected.items() if isinstance(v, int))
    # the bureau's own members see their organisation's row only; a principal of no responsible one sees nothing
    own = await _report(cashier, COUNTY)
    assert own["organisations"] == [{"organisation_id": bureau, **expected}]
    assert own["totals"] == expected
    nobody = await _report(site.outsider, COUNTY)
    assert nobody["organisations"] == [] and nobody["totals"] == _figures()

    # another county's case is its own county's; the city's inspector sees both counties by organisation
    other_bureau = await organisation(site.admin, "finance_bureau", OTHER_COUNTY)
    elsewhere = ok(await site.other_inspector.post("/oversight/cases", json={
        "region_code": OTHER_COUNTY, "title": "邻县", "complaint_ref": "信访-邻县", "money_involved_fen": 9_000}),
        201)
    ok(await site.other_inspector.post(f"/oversight/cases/{elsewhere['id']}/assign",
                                       json={"organisation_id": other_bureau}))
    assert _row(await _report(inspector, COUNTY), other_bureau) is None
    city = await _report(site.city_inspector, CITY)
    assert _row(city, bureau) == {"organisation_id": bureau, **expected}
    assert _row(city, other_bureau) == {"organisation_id": other_bureau,
                                        **_figures(opened=1, money_involved_fen=9_000)}
    assert _row(await _report(site.city_inspector, COUNTY), other_bureau) is None
    # a period before these cases were opened counts none of them
    yesterday = clock.today() - timedelta(days=1)
    assert _row(await _report(inspector, COUNTY, yesterday - timedelta(days=30), yesterday), bureau) is None


async def test_a_report_of_a_region_not_covered_or_a_bad_period_is_refused(site: Site) -> None:
    today = clock.today().isoformat()
    refused(await site.other_inspector.get("/oversight/report", params={"region": COUNTY, "from": today,
                                                                         "to": today}),
            403, "NOT_IN_JURISDICTION", field="region")
    refused(await site.inspector.get("/oversight/report", params={"region": CITY, "from": today, "to": today}),
            403, "NOT_IN_JURISDICTION", field="region")
    refused(await site.inspector.get("/oversight/report", params={"region": COUNTY, "from": today,
                                                                   "to": "2020-01-01"}),
            422, "VALIDATION_ERROR", field="from")
    refused(await site.inspector.get("/oversight/report", params={"region": "45102x", "from": today, "to": today}),
            422, "VALIDATION_ERROR", field="region")
    refused(await site.inspector.get("/oversight/report", params={"region": COUNTY, "to": today}),
            422, "VALIDATION_ERROR", field="from")
    refused(await site.admin.get("/oversight/report", params={"from": today, "to": today}), 403, "FORBIDDEN")


def test_a_cases_standing_at_the_end_of_the_period() -> None:
    deadline = date(2026, 3, 31)

    def step(action: str, on: date, **extra: Any) -> Step:
        state = "open" if action == "opened" else action
        return Step(action, state, extra.get("organisation_id", ""), extra.get("deadline"), on,
                    extra.get("money"))

    assigned = [step("opened", date(2026, 3, 1)),
                step("assigned", date(2026, 3, 1), organisation_id="org_a", deadline=deadline)]
    answered = [*assigned, step("rectification_submitted", date(2026, 3, 20), money=9)]
    in_time = standing([*answered, step("accepted", deadline), step("closed", date(2026, 4, 5))], date(2026, 5, 1))
    assert (in_time.responsible, in_time.closed_on_time, in_time.overdue, in_time.money_recovered_fen) == (
        "org_a", True, False, 9)
    late = standing([*answered, step("accepted", deadline + timedelta(days=1))], date(2026, 5, 1))
    assert (late.closed_on_time, late.overdue) == (False, True)
    assert standing(answered, deadline).overdue is False
    assert standing(answered, deadline + timedelta(days=1)).overdue is True
    assert standing(answered, deadline + timedelta(days=1)).money_recovered_fen == 0  # not accepted
    referred = standing([*assigned, step("referred", date(2026, 4, 9))], date(2026, 5, 1))
    assert (referred.referred, referred.overdue, referred.closed_on_time) == (True, False, False)
    assert standing([step("opened", date(2026, 3, 1))], date(2026, 5, 1)).responsible is None

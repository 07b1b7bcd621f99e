"""The county's integration plan (统筹整合方案, issue #17 point 1): F15 (arrangements within the plan in force) and
F16 (versions, adjustments with a reason, the report to the city and province), through the gateway."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from services.funds import codes
from services.kernel import clock
from tests.conftest import MakePrincipal
from tests.funds.site import Site

YEAR = clock.today().year  # arrangements are dated today unless told: the plan of this year holds them


def plan_body(site: Site, projects: dict[str, int], *, source_fen: int = 5_000_000, year: int = YEAR,
              **extra: Any) -> dict[str, Any]:
    return {"county_code": site.county, "fiscal_year": year,
            "sources": [{"fund_source": site.world.source, "amount_fen": source_fen}],
            "projects": [{"project_id": p, "amount_fen": a} for p, a in projects.items()], **extra}


def lines(projects: dict[str, int], site: Site, **extra: Any) -> dict[str, Any]:
    body = plan_body(site, projects, **extra)
    return {k: v for k, v in body.items() if k not in ("county_code", "fiscal_year")}


async def file_plan(site: Site, projects: dict[str, int], *, report: bool = True, **extra: Any) -> dict[str, Any]:
    filed = await site.world.fin_pilot.post("/funds/plans", json=plan_body(site, projects, **extra))
    assert filed.status_code == 201, filed.text
    if not report:
        return dict(filed.json())
    reported = await site.world.fin_pilot.post(f"/funds/plans/{filed.json()['id']}/report", json={"version": 1})
    assert reported.status_code == 200, reported.text
    return dict(reported.json())


async def arrange(site: Site, project_id: str, amount: int) -> Any:
    return await site.world.fin_pilot.post("/funds/arrangements", json=site.arrangement(project_id, amount))


async def require_plans(site: Site, *, from_year: int = YEAR) -> None:
    """F15's requirement declared by the province for the pilot county (reference data)."""
    response = await site.world.fin_province.put(f"/funds/obligations/plan-{site.county}", json={
        "region_code": site.county, "kind": "county_plan", "from_year": from_year, "doc_no": "湘政办发〔2016〕1号"})
    assert response.status_code == 200, response.text


async def test_f16_a_plan_is_a_draft_until_reported_then_in_force(site: Site) -> None:
    w = site.world
    project_id = await site.project("approved")
    draft = await file_plan(site, {project_id: 300_000}, report=False)
    assert (draft["state"], draft["version_in_force"]) == ("draft", None)
    assert draft["versions"][0]["projects"] == [{"project_id": project_id, "amount_fen": 300_000}]
    reported = await w.fin_pilot.post(f"/funds/plans/{draft['id']}/report", json={"version": 1})
    assert reported.status_code == 200, reported.text
    assert (reported.json()["state"], reported.json()["version_in_force"]) == ("reported", 1)
    assert reported.json()["versions"][0]["reported_on"] == clock.today().isoformat()
    again = await w.fin_pilot.post(f"/funds/plans/{draft['id']}/report", json={"version": 1})
    assert again.status_code == 409 and again.json()["code"] == codes.PLAN_ALREADY_REPORTED, again.text
    listed = await w.inspector.get("/funds/plans", params={"county": site.county, "year": YEAR})
    assert [p["id"] for p in listed.json()["items"]] == [draft["id"]]
    read = await w.fin_city.get(f"/funds/plans/{draft['id']}")
    assert read.status_code == 200 and read.json()["state"] == "reported"


async def test_f15_an_arrangement_within_the_plan_in_force_is_allowed(site: Site) -> None:
    w = site.world
    project_id = await site.project("approved")
    await file_plan(site, {project_id: 300_000})
    assert (await arrange(site, project_id, 200_000)).status_code == 201
    last = await arrange(site, project_id, 100_000)  # exactly the planned amount
    assert last.status_code == 201, last.text
    assert await w.balances(site.county) == {("pool", w.source, ""): 4_700_000,
                                             ("project", w.source, project_id): 300_000}


async def test_f15_beyond_the_planned_amount_or_outside_the_plan_is_refused(site: Site) -> None:
    w = site.world
    planned, unplanned = await site.project("approved"), await site.project("approved")
    await file_plan(site, {planned: 300_000})
    assert (await arrange(site, planned, 200_000)).status_code == 201
    beyond = await arrange(site, planned, 100_001)
    assert beyond.status_code == 422, beyond.text
    assert (beyond.json()["code"], beyond.json()["field"], beyond.json()["rule"]) == (codes.NOT_IN_PLAN,
                                                                                      "amount_fen", "F15")
    assert (beyond.json()["planned_fen"], beyond.json()["arranged_fen"]) == (300_000, 200_000)
    outside = await arrange(site, unplanned, 1_000)
    assert outside.status_code == 422, outside.text
    assert (outside.json()["code"], outside.json()["field"]) == (codes.NOT_IN_PLAN, "project_id")
    assert await w.balances(site.county) == {("pool", w.source, ""): 4_800_000,
                                             ("project", w.source, planned): 200_000}


async def test_f15_a_reversed_arrangement_frees_its_planned_amount(site: Site) -> None:
    project_id = await site.project("approved")
    await file_plan(site, {project_id: 300_000})
    first = await arrange(site, project_id, 300_000)
    assert first.status_code == 201
    assert (await arrange(site, project_id, 1)).json()["code"] == codes.NOT_IN_PLAN
    reversed_ = await site.world.fin_pilot.post("/funds/reversals", json={"target_id": first.json()["id"],
                                                                         "reason": "录错"})
    assert reversed_.status_code == 201, reversed_.text
    assert (await arrange(site, project_id, 300_000)).status_code == 201


async def test_f16_an_adjustment_is_a_new_version_in_force_once_reported(site: Site, db: asyncpg.Pool) -> None:
    w = site.world
    a, b = await site.project("approved"), await site.project("approved")
    plan = await file_plan(site, {a: 100_000})
    adjusted = await w.fin_pilot.post(f"/funds/plans/{plan['id']}/adjustments",
                                      json=lines({a: 100_000, b: 200_000}, site, reason="新增产业项目 b"))
    assert adjusted.status_code == 201, adjusted.text
    body = adjusted.json()
    assert (body["state"], body["version_in_force"], len(body["versions"])) == ("adjusted", 1, 2)
    assert body["versions"][0]["projects"] == [{"project_id": a, "amount_fen": 100_000}]  # the old one is kept
    assert body["versions"][1]["reason"] == "新增产业项目 b" and body["versions"][1]["reported_on"] is None
    # until the adjustment is reported, version 1 is in force: b is not in it
    assert (await arrange(site, b, 1_000)).json()["code"] == codes.NOT_IN_PLAN
    stale = await w.fin_pilot.post(f"/funds/plans/{plan['id']}/report", json={"version": 1})
    assert stale.status_code == 409 and stale.json()["code"] == codes.PLAN_VERSION_SUPERSEDED
    old = await w.fin_pilot.post(f"/funds/plans/{plan['id']}/adjustments",
                                 json=lines({a: 100_000, b: 250_000}, site, reason="再调整"))
    assert old.status_code == 201
    superseded = await w.fin_pilot.post(f"/funds/plans/{plan['id']}/report", json={"version": 2})
    assert superseded.status_code == 409 and superseded.json()["code"] == codes.PLAN_VERSION_SUPERSEDED
    reported = await w.fin_pilot.post(f"/funds/plans/{plan['id']}/report", json={"version": 3})
    assert reported.status_code == 200 and reported.json()["version_in_force"] == 3, reported.text
    assert (await arrange(site, b, 250_000)).status_code == 201
    assert await db.fetchval("SELECT count(*) FROM funds.plan_versions WHERE plan_id = $1", plan["id"]) == 3
    with pytest.raises(asyncpg.PostgresError, match="append-only"):
        await db.execute("UPDATE funds.plan_lines SET amount_fen = 1 WHERE plan_id = $1", plan["id"])


async def test_f16_an_adjustment_keeps_what_the_year_already_arranged(site: Site) -> None:
    w = site.world
    a, b = await site.project("approved"), await site.project("approved")
    plan = await file_plan(site, {a: 300_000, b: 100_000})
    assert (await arrange(site, a, 200_000)).status_code == 201
    below = await w.fin_pilot.post(f"/funds/plans/{plan['id']}/adjustments",
                                   json=lines({a: 199_999, b: 100_000}, site, reason="压减"))
    assert below.status_code == 422, below.text
    assert (below.json()["code"], below.json()["field"]) == (codes.PLAN_BELOW_ARRANGED, "projects.0.amount_fen")
    dropped = await w.fin_pilot.post(f"/funds/plans/{plan['id']}/adjustments",
                                     json=lines({b: 100_000}, site, reason="取消 a"))
    assert dropped.status_code == 422 and dropped.json()["code"] == codes.PLAN_BELOW_ARRANGED, dropped.text
    allowed = await w.fin_pilot.post(f"/funds/plans/{plan['id']}/adjustments",
                                     json=lines({a: 200_000}, site, reason="取消 b，a 按实际"))
    assert allowed.status_code == 201, allowed.text
    assert len((await w.inspector.get(f"/funds/plans/{plan['id']}")).json()["versions"]) == 2


async def test_f16_a_plan_names_library_projects_within_its_sources(site: Site, db: asyncpg.Pool) -> None:
    w = site.world
    approved, draft = await site.project("approved"), await site.project("draft")
    for projects, field, code in (
        ({approved: 100_000, draft: 1}, "projects.1.project_id", codes.PROJECT_NOT_IN_LIBRARY),
        ({"prj_unknown": 1}, "projects.0.project_id", codes.PROJECT_NOT_IN_LIBRARY),
        ({approved: 5_000_001}, "projects", codes.PLAN_UNBALANCED),
    ):
        refused = await w.fin_pilot.post("/funds/plans", json=plan_body(site, projects))
        assert refused.status_code == 422, refused.text
        assert (refused.json()["code"], refused.json()["field"]) == (code, field)
    twice = plan_body(site, {approved: 1})
    twice["projects"].append({"project_id": approved, "amount_fen": 2})
    refused = await w.fin_pilot.post("/funds/plans", json=twice)
    assert (refused.status_code, refused.json()["field"]) == (422, "projects.1.project_id"), refused.text
    unknown = plan_body(site, {approved: 1})
    unknown["sources"][0]["fund_source"] = "NOSUCH"
    refused = await w.fin_pilot.post("/funds/plans", json=unknown)
    assert (refused.json()["code"], refused.json()["field"]) == (codes.UNKNOWN_FUND_SOURCE, "sources.0.fund_source")
    assert await db.fetchval("SELECT count(*) FROM funds.plans WHERE county_code = $1", site.county) == 0
    assert (await w.fin_pilot.post("/funds/plans", json=plan_body(site, {approved: 5_000_000}))).status_code == 201
    second = await w.fin_pilot.post("/funds/plans", json=plan_body(site, {approved: 1}))
    assert second.status_code == 409 and second.json()["code"] == codes.PLAN_EXISTS, second.text


async def test_f16_only_the_countys_own_finance_office_files_and_reports(site: Site,
                                                                         make_principal: MakePrincipal) -> None:
    w = site.world
    project_id = await site.project("approved")
    for api, status in ((w.fin_city, 403), (w.fin_province, 403), (w.inspector, 403), (site.pm, 403)):
        refused = await api.post("/funds/plans", json=plan_body(site, {project_id: 1}))
        assert refused.status_code == status, refused.text
    other = await make_principal("finance", w.poor)
    refused = await other.post("/funds/plans", json=plan_body(site, {project_id: 1}))
    assert refused.status_code == 403 and refused.json()["code"] == "NOT_IN_JURISDICTION"
    plan = await file_plan(site, {project_id: 1}, report=False)
    assert (await w.fin_city.post(f"/funds/plans/{plan['id']}/report", json={"version": 1})).status_code == 403
    assert (await other.get(f"/funds/plans/{plan['id']}")).status_code == 403
    assert (await w.fin_pilot.post(f"/funds/plans/{plan['id']}/report", json={"version": 1})).status_code == 200


async def test_f15_a_pilot_county_that_must_have_a_plan_arranges_nothing_without_one(site: Site) -> None:
    w = site.world
    project_id = await site.project("approved")
    await require_plans(site, from_year=YEAR + 1)  # not yet in force this year: arranged as before
    assert (await arrange(site, project_id, 1_000)).status_code == 201
    await require_plans(site, from_year=YEAR)
    refused = await arrange(site, project_id, 1_000)
    assert refused.status_code == 422, refused.text
    assert (refused.json()["code"], refused.json()["field"]) == (codes.NOT_IN_PLAN, "project_id")
    await file_plan(site, {project_id: 100_000}, report=False)
    assert (await arrange(site, project_id, 1_000)).json()["code"] == codes.NOT_IN_PLAN  # a draft is not in force
    plan = (await w.inspector.get("/funds/plans", params={"county": site.county})).json()["items"][0]
    assert (await w.fin_pilot.post(f"/funds/plans/{plan['id']}/report", json={"version": 1})).status_code == 200
    assert (await arrange(site, project_id, 1_000)).status_code == 201


async def test_obligations_are_declared_from_above(site: Site) -> None:
    w = site.world
    body = {"region_code": site.county, "kind": "county_plan", "from_year": YEAR, "doc_no": "d"}
    own = await w.fin_pilot.put(f"/funds/obligations/own-{site.county}", json=body)
    assert own.status_code == 403 and own.json()["field"] == "region_code", own.text
    assert (await w.fin_city.put(f"/funds/obligations/city-{site.county}", json=body)).status_code == 200
    shared = await w.fin_city.put(f"/funds/obligations/city-{site.county}", json={**body, "kind": "revenue_increment"})
    assert shared.status_code == 422 and shared.json()["field"] == "share_bp"
    read = await w.inspector.get(f"/funds/obligations/city-{site.county}")
    assert read.status_code == 200 and read.json()["kind"] == "county_plan"


async def test_plan_execution_by_source_and_project(site: Site) -> None:
    w = site.world
    a, b = await site.project("in_progress"), await site.project("in_progress")
    await file_plan(site, {a: 300_000, b: 100_000}, source_fen=400_000)
    assert (await arrange(site, a, 250_000)).status_code == 201
    assert (await arrange(site, b, 100_000)).status_code == 201
    paid = await w.fin_pilot.post("/funds/disbursements", json=site.payment(a, 40_000))
    assert paid.status_code == 201, paid.text
    report = await w.fin_city.get("/funds/reports/plan-execution", params={"county": site.county, "year": YEAR})
    assert report.status_code == 200, report.text
    assert report.json()["version_in_force"] == 1
    assert report.json()["by_source"] == [{"key": w.source, "planned_fen": 400_000, "arranged_fen": 350_000,
                                           "paid_fen": 40_000}]
    assert report.json()["by_project"] == sorted([
        {"key": a, "planned_fen": 300_000, "arranged_fen": 250_000, "paid_fen": 40_000},
        {"key": b, "planned_fen": 100_000, "arranged_fen": 100_000, "paid_fen": 0}], key=lambda r: str(r["key"]))
    last_year = await w.inspector.get("/funds/reports/plan-execution", params={"county": site.county,
                                                                               "year": YEAR - 1})
    assert last_year.json()["by_project"] == [] and last_year.json()["plan_id"] is None
    outside = await site.pm.get("/funds/reports/plan-execution", params={"county": site.county, "year": YEAR})
    assert outside.status_code == 403


async def test_f15_concurrent_arrangements_never_pass_the_planned_amount(site: Site) -> None:
    project_id = await site.project("approved")
    await file_plan(site, {project_id: 300_000})
    answers = await asyncio.gather(*(arrange(site, project_id, 200_000) for _ in range(3)))
    assert sorted(r.status_code for r in answers) == [201, 422, 422]
    assert (await site.world.balances(site.county))[("project", site.world.source, project_id)] == 200_000


async def test_f16_concurrent_adjustments_file_one_version_each_or_409(site: Site, db: asyncpg.Pool) -> None:
    project_id = await site.project("approved")
    plan = await file_plan(site, {project_id: 1_000})
    answers = await asyncio.gather(*(
        site.world.fin_pilot.post(f"/funds/plans/{plan['id']}/adjustments",
                                  json=lines({project_id: 1_000 + n}, site, reason=f"调整 {n}"))
        for n in range(3)))
    created = sum(r.status_code == 201 for r in answers)
    assert all(r.status_code in (201, 409) for r in answers), [r.text for r in answers]
    assert await db.fetchval("SELECT count(*) FROM funds.plan_versions WHERE plan_id = $1", plan["id"]) == 1 + created
    assert created >= 1


async def test_f16_a_version_reported_after_arrangements_still_covers_them(site: Site) -> None:
    """An adjustment filed while version 1 is in force, then money arranged under version 1: reporting the
    adjustment is refused if it would now plan the project below what it received, allowed if not."""
    w = site.world
    a = await site.project("approved")
    plan = await file_plan(site, {a: 300_000})
    lower = await w.fin_pilot.post(f"/funds/plans/{plan['id']}/adjustments",
                                   json=lines({a: 150_000}, site, reason="压减"))
    assert lower.status_code == 201, lower.text
    assert (await arrange(site, a, 200_000)).status_code == 201  # under version 1, still in force
    refused = await w.fin_pilot.post(f"/funds/plans/{plan['id']}/report", json={"version": 2})
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == codes.PLAN_BELOW_ARRANGED
    assert (await w.inspector.get(f"/funds/plans/{plan['id']}")).json()["version_in_force"] == 1
    fixed = await w.fin_pilot.post(f"/funds/plans/{plan['id']}/adjustments",
                                   json=lines({a: 200_000}, site, reason="按实际安排"))
    assert fixed.status_code == 201, fixed.text
    reported = await w.fin_pilot.post(f"/funds/plans/{plan['id']}/report", json={"version": 3})
    assert reported.status_code == 200 and reported.json()["version_in_force"] == 3, reported.text


async def test_f16_a_report_waits_for_a_first_arrangement_under_way_and_then_judges_it(
    site: Site, db: asyncpg.Pool
) -> None:
    """A project's first arrangement creates its ledger row, so no row lock can hold it off a report of the year's
    plan: the report must not judge the year while one is under way, nor the arrangement pass on the plan the report
    replaces. Here the arrangement (200,000 under version 1's 300,000) is held inside its transaction, after its F15
    check, by a test trigger; version 2 (150,000) is reported meanwhile: it waits for the arrangement, then sees it
    and is refused (PLAN_BELOW_ARRANGED). Without the wait both were accepted: 200,000 arranged under a plan in
    force of 150,000."""
    w = site.world
    a = await site.project("approved")
    plan = await file_plan(site, {a: 300_000})
    lower = await w.fin_pilot.post(f"/funds/plans/{plan['id']}/adjustments",
                                   json=lines({a: 150_000}, site, reason="压减"))
    assert lower.status_code == 201, lower.text
    await db.execute(f"""
        CREATE FUNCTION funds.test_hold_arrangement() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_sleep(2); RETURN NULL; END $$;
        CREATE TRIGGER test_hold_arrangement AFTER INSERT ON funds.arrangements FOR EACH ROW
            WHEN (NEW.project_id = '{a}') EXECUTE FUNCTION funds.test_hold_arrangement();
    """)
    try:
        arranging = asyncio.create_task(arrange(site, a, 200_000))
        for _ in range(100):  # until the arrangement is held in its transaction, its F15 check made
            if await db.fetchval("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'"):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the arrangement never reached the trigger")
        reported = await w.fin_pilot.post(f"/funds/plans/{plan['id']}/report", json={"version": 2})
        arranged = await arranging
    finally:
        await db.execute("DROP TRIGGER test_hold_arrangement ON funds.arrangements; "
                         "DROP FUNCTION funds.test_hold_arrangement()")
    assert arranged.status_code == 201, arranged.text
    assert reported.status_code == 422, reported.text
    assert reported.json()["code"] == codes.PLAN_BELOW_ARRANGED
    assert (await w.inspector.get(f"/funds/plans/{plan['id']}")).json()["version_in_force"] == 1

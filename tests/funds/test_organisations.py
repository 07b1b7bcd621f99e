"""Issue #16 point 1 (rule O13), through the gateway: every funds record carries the organisation of the principal
that recorded it and the one responsible for it: the region's finance bureau when one is registered, else the
recorder's; a reversal the one responsible for what it corrects; and the alerts about payments name it."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from services.funds import codes
from services.kernel import clock
from tests.conftest import Api, MakePrincipal, scan_alerts
from tests.funds.site import make_site
from tests.funds.test_detectors import alerts
from tests.funds.world import make_world, new_source_code, put_source
from tests.oversight.conftest import member, ok, organisation


def _orgs(record: dict[str, Any]) -> tuple[str | None, str | None]:
    return record["recorded_by_org"], record["responsible_org"]


async def _stored(db: asyncpg.Pool, table: str, record_id: str) -> tuple[str | None, str | None]:
    row = await db.fetchrow(f"SELECT recorded_by_org, responsible_org FROM funds.{table} WHERE id = $1", record_id)
    assert row is not None
    return row["recorded_by_org"], row["responsible_org"]


async def test_the_county_finance_bureau_answers_for_arrangements_payments_and_their_alerts(
    admin: Api, make_principal: MakePrincipal, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    site = await make_site(admin, make_principal)
    while site.world.city == site.world.province:  # a county 6n00xx: its "city" 6n0000 is the province, no issuer
        site = await make_site(admin, make_principal)
    county, w = site.county, site.world
    bureau = await organisation(admin, "finance_bureau", county)  # registered before anything of the county's
    office = await organisation(admin, "poverty_office", county)
    clerk = await member(admin, http, "finance", county, office)
    project_id = await site.project("in_progress")

    arranged = ok(await clerk.post("/funds/arrangements", json=site.arrangement(project_id, 100_000)), 201)
    assert _orgs(arranged) == (office, bureau)
    assert await _stored(db, "arrangements", arranged["id"]) == (office, bureau)
    not_poor = site.households[2]
    paid = ok(await clerk.post("/funds/disbursements",
                               json=site.payment(project_id, 30_000, household=not_poor)), 201)
    assert _orgs(paid) == (office, bureau)
    assert await _stored(db, "disbursements", paid["id"]) == (office, bureau)

    inspector = await make_principal("inspector", county)
    await scan_alerts(inspector, clock.today().isoformat())
    [alert] = await alerts(inspector, codes.INELIGIBLE_PAYEE, paid["id"])
    assert alert["subject"]["responsible_org"] == bureau
    internal = await db.fetchval("SELECT responsible_org FROM funds.alerts WHERE id = $1", alert["id"])
    assert internal == bureau

    # a correction answers to whoever answers for what it corrects; it is recorded by the corrector's organisation
    cashier = await member(admin, http, "finance", county, bureau)
    reversed_ = ok(await cashier.post("/funds/reversals", json={"target_id": paid["id"], "reason": "误拨，已追回"}),
                   201)
    assert _orgs(reversed_) == (bureau, bureau)
    undone = ok(await clerk.post("/funds/reversals", json={"target_id": arranged["id"], "reason": "重复安排"}), 201)
    assert _orgs(undone) == (office, bureau)
    assert await _stored(db, "reversals", undone["id"]) == (office, bureau)

    # an allocation answers to the issuer's finance bureau; the detail shows both
    city_bureau = await organisation(admin, "finance_bureau", w.city)
    city_office = await organisation(admin, "other", w.city)
    city_clerk = await member(admin, http, "finance", w.city, city_office)
    ok(await w.allocate(2_000_000, to=w.city), 201)
    allocated = ok(await w.allocate(1_000_000, api=city_clerk, frm=w.city, to=county), 201)
    assert _orgs(allocated) == (city_office, city_bureau)
    assert _orgs(ok(await w.inspector.get(f"/funds/allocations/{allocated['id']}"))) == (city_office, city_bureau)
    appropriated = ok(await city_clerk.post("/funds/appropriations", json={
        "fund_source": w.source, "fiscal_year": 2018, "region_code": w.city, "amount_fen": 5_000,
        "doc_no": f"市财预〔2018〕{allocated['id'][-6:]}号", "appropriated_on": "2018-01-10"}), 201)
    assert _orgs(appropriated) == (city_office, city_bureau)
    assert await _stored(db, "appropriations", appropriated["id"]) == (city_office, city_bureau)


async def test_without_a_finance_bureau_the_recording_organisation_answers(
    admin: Api, make_principal: MakePrincipal, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    site = await make_site(admin, make_principal)
    county = site.county
    office = await organisation(admin, "poverty_office", county)
    other_bureau = await organisation(admin, "finance_bureau", site.world.poor)  # another county's: not this one's
    clerk = await member(admin, http, "finance", county, office)
    project_id = await site.project("in_progress")

    arranged = ok(await clerk.post("/funds/arrangements", json=site.arrangement(project_id, 100_000)), 201)
    assert _orgs(arranged) == (office, office)
    not_poor = site.households[2]
    paid = ok(await clerk.post("/funds/disbursements",
                               json=site.payment(project_id, 30_000, household=not_poor)), 201)
    assert _orgs(paid) == (office, office) and other_bureau != office
    inspector = await make_principal("inspector", county)
    await scan_alerts(inspector, clock.today().isoformat())
    [alert] = await alerts(inspector, codes.INELIGIBLE_PAYEE, paid["id"])
    assert alert["subject"]["responsible_org"] == office
    assert await _stored(db, "disbursements", paid["id"]) == (office, office)


async def test_alerts_about_money_held_name_the_finance_bureau_of_its_region_or_none(
    admin: Api, make_principal: MakePrincipal
) -> None:
    """O13 for money held (no record to read an organisation from): IDLE_FUNDS names the county's finance bureau;
    LATE_PASS_DOWN at a province with none registered names none."""
    w = await make_world(admin, make_principal)
    bureau = await organisation(admin, "finance_bureau", w.pilot)
    source = new_source_code()
    await put_source(admin, source, integrable=True)
    ok(await w.appropriate(20_000, source=source, on="2018-01-10"), 201)
    ok(await w.allocate(4_000, to=w.pilot, source=source, on="2018-02-01"), 201)
    ok(await w.appropriate(6_000, region="000000", source=source, on="2018-01-10"), 201)
    ok(await w.allocate(6_000, api=w.central, frm="000000", to=w.province, source=source, on="2018-02-01"), 201)
    await scan_alerts(admin, "2018-05-03")  # 91 days without an outflow; central money held 91 days above counties
    [idle] = await alerts(admin, codes.IDLE_FUNDS, f"{w.pilot}:pool:{source}")
    assert idle["subject"]["responsible_org"] == bureau
    [late] = await alerts(admin, codes.LATE_PASS_DOWN, f"{w.province}:central:{source}")
    assert late["subject"]["responsible_org"] is None

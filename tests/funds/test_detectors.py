"""Each funds detector with data just before and just after its threshold (POST /alerts/scan {as_of})."""

from __future__ import annotations

from typing import Any

import asyncpg

from services.funds import codes
from services.kernel import clock
from tests.conftest import Api, scan_alerts
from tests.funds.site import Site
from tests.funds.world import World, new_source_code, put_source
from tests.registry.api import import_csv
from tests.registry.factory import csv_body, row


async def scan(admin: Api, as_of: str) -> None:
    await scan_alerts(admin, as_of)


async def alerts(admin: Api, alert_type: str, subject: str) -> list[dict[str, Any]]:
    response = await admin.get("/alerts", params={"type": alert_type, "limit": 500})
    assert response.status_code == 200, response.text
    return [a for a in response.json()["items"] if a["subject"]["id"] == subject]


async def events_of(db: asyncpg.Pool, alert_id: str) -> list[str]:
    rows = await db.fetch("SELECT action FROM funds.alert_events WHERE alert_id = $1 ORDER BY id", alert_id)
    return [row["action"] for row in rows]


async def test_idle_funds_after_90_days_without_outflow(world: World, admin: Api, db: asyncpg.Pool) -> None:
    assert (await world.appropriate(10_000)).status_code == 201
    assert (await world.allocate(4_000, to=world.pilot, on="2018-02-01")).status_code == 201
    subject = f"{world.pilot}:pool:{world.source}"
    await scan(admin, "2018-05-02")  # 90 days: not yet
    assert await alerts(admin, codes.IDLE_FUNDS, subject) == []
    await scan(admin, "2018-05-03")  # 91 days
    [alert] = await alerts(admin, codes.IDLE_FUNDS, subject)
    assert alert["facts"]["amount"] == 4_000 and "days" not in alert["facts"]
    assert alert["facts"]["since"] == "2018-02-01" and alert["region_code"] == world.pilot
    # issue #20: the next days change nothing it says: the alert is not written again
    await scan(admin, "2018-05-04")
    await scan(admin, "2018-05-05")
    assert await events_of(db, alert["id"]) == ["raised"]
    [same] = await alerts(admin, codes.IDLE_FUNDS, subject)
    assert same["facts"] == alert["facts"]


async def test_late_pass_down_after_30_days(world: World, admin: Api) -> None:
    """F9, counted from the central document (the end-to-end reading, tests/funds/test_late_pass_down_end_to_end.py)."""
    source = new_source_code()
    await put_source(admin, source, integrable=True)
    assert (await world.appropriate(10_000, region="000000", source=source, on="2018-02-01")).status_code == 201
    assert (await world.allocate(10_000, api=world.central, frm="000000", to=world.province, source=source,
                                 on="2018-03-01")).status_code == 201
    assert (await world.allocate(6_000, to=world.poor, source=source, on="2018-03-05")).status_code == 201
    held = f"{world.province}:central:{source}"
    await scan(admin, "2018-03-31")  # sent down 30 days ago: still in time
    assert await alerts(admin, codes.LATE_PASS_DOWN, held) == []
    await scan(admin, "2018-04-01")  # 31 days
    [alert] = await alerts(admin, codes.LATE_PASS_DOWN, held)
    assert alert["facts"]["amount"] == 4_000 and alert["facts"]["since"] == "2018-03-01"


async def test_growth_below_average(world: World, admin: Api) -> None:
    below, above = new_source_code(), new_source_code()
    for source, poor in ((below, 105_000), (above, 200_000)):
        await put_source(admin, source, integrable=True)
        for year, amounts in ((2017, (100_000, 100_000)), (2018, (poor, 300_000 - poor))):
            assert (await world.appropriate(sum(amounts), source=source, year=year,
                                            on=f"{year}-01-05")).status_code == 201
            for county, amount in zip((world.poor, world.rich), amounts, strict=True):
                assert (await world.allocate(amount, to=county, source=source, year=year,
                                             on=f"{year}-02-01")).status_code == 201
    await scan(admin, "2018-01-31")  # the 2018 allocations are not issued yet
    assert await alerts(admin, codes.GROWTH_BELOW_AVERAGE, f"{world.province}:{below}:2018") == []
    await scan(admin, "2018-02-01")
    [alert] = await alerts(admin, codes.GROWTH_BELOW_AVERAGE, f"{world.province}:{below}:2018")
    assert alert["facts"]["poor_growth"] == 0.05 and alert["facts"]["average_growth"] == 0.5
    assert await alerts(admin, codes.GROWTH_BELOW_AVERAGE, f"{world.province}:{above}:2018") == []


async def test_duplicate_payment_within_30_days(site: Site, admin: Api) -> None:
    w = site.world
    project_id = await site.project("in_progress")
    arranged = await w.fin_pilot.post("/funds/arrangements", json=site.arrangement(project_id, 100_000))
    assert arranged.status_code == 201
    firsts = [await w.fin_pilot.post("/funds/disbursements", json=site.payment(project_id, 7_000, paid_on=on))
              for on in ("2018-03-01", "2018-03-31")]
    other = site.households[1]
    spaced = [await w.fin_pilot.post("/funds/disbursements",
                                     json=site.payment(project_id, 5_000, household=other, paid_on=on))
              for on in ("2018-03-01", "2018-04-01")]
    assert all(r.status_code == 201 for r in firsts + spaced)
    await scan(admin, "2018-03-30")
    assert await alerts(admin, codes.DUPLICATE_PAYMENT, firsts[1].json()["id"]) == []
    await scan(admin, "2018-04-02")
    [alert] = await alerts(admin, codes.DUPLICATE_PAYMENT, firsts[1].json()["id"])
    assert alert["facts"]["days_apart"] == 30 and alert["facts"]["first_disbursement_id"] == firsts[0].json()["id"]
    assert await alerts(admin, codes.DUPLICATE_PAYMENT, spaced[1].json()["id"]) == []  # 31 days apart


async def test_ineligible_payee_is_recorded_and_flagged(site: Site, admin: Api) -> None:
    w = site.world
    cadre = row(site.county, village_cadre="1", card_account="6217000000000000777")
    assert (await import_csv(admin, csv_body(cadre))).status_code == 200
    project_id = await site.project("in_progress")
    arranged = await w.fin_pilot.post("/funds/arrangements", json=site.arrangement(project_id, 100_000))
    assert arranged.status_code == 201
    today = clock.today().isoformat()  # the registry dates its history in China time
    poor, not_poor = site.households[0], site.households[2]
    paid = {}
    for name, household in (("poor", poor), ("not_poor", not_poor),
                            ("cadre", {"household_id": cadre.household_id, "head_name": "张三",
                                       "card_account": cadre.card_account})):
        response = await w.fin_pilot.post("/funds/disbursements",
                                          json=site.payment(project_id, 1_000, household=household, paid_on=today))
        assert response.status_code == 201, response.text  # recorded, not refused
        paid[name] = response.json()["id"]
    await scan(admin, today)
    assert await alerts(admin, codes.INELIGIBLE_PAYEE, paid["poor"]) == []
    [not_poor_alert] = await alerts(admin, codes.INELIGIBLE_PAYEE, paid["not_poor"])
    assert not_poor_alert["facts"]["reason"] == "status_not_poor"
    [cadre_alert] = await alerts(admin, codes.INELIGIBLE_PAYEE, paid["cadre"])
    assert cadre_alert["facts"]["reason"] == "village_cadre"


async def test_idle_funds_in_a_project_account_after_90_days_without_outflow(site: Site, admin: Api) -> None:
    """F3 also watches project accounts: money arranged to a project and not paid out for more than 90 days. A
    payment spends the oldest money first (F3 extended, issue #17 point 7): what it leaves keeps ageing."""
    w = site.world
    idle, paying = await site.project("in_progress"), await site.project("in_progress")
    for project_id in (idle, paying):
        arranged = await w.fin_pilot.post("/funds/arrangements",
                                          json=site.arrangement(project_id, 50_000, arranged_on="2018-03-01"))
        assert arranged.status_code == 201, arranged.text
    paid = await w.fin_pilot.post("/funds/disbursements", json=site.payment(paying, 10_000, paid_on="2018-04-15"))
    assert paid.status_code == 201, paid.text
    subject = f"{site.county}:project:{w.source}:{{}}"
    await scan(admin, "2018-05-30")  # 90 days after the arrangement: not yet
    assert await alerts(admin, codes.IDLE_FUNDS, subject.format(idle)) == []
    await scan(admin, "2018-05-31")  # 91 days
    [alert] = await alerts(admin, codes.IDLE_FUNDS, subject.format(idle))
    assert alert["facts"]["account"] == "project" and alert["facts"]["project_id"] == idle
    assert (alert["facts"]["amount_fen"], alert["facts"]["since"]) == (50_000, "2018-03-01")
    [rest] = await alerts(admin, codes.IDLE_FUNDS, subject.format(paying))  # 10,000 paid: the other 40,000 age
    assert (rest["facts"]["amount_fen"], rest["facts"]["since"]) == (40_000, "2018-03-01")

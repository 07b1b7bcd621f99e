"""F3 (extended) idle money ages by amount, first in, first out (issue #17 point 7): a payment spends the oldest
money, so paying part of an account does not make the rest fresh; a county's fund accounts (a non-pilot county's,
or money outside the scope) are watched too. Through the gateway: POST /alerts/scan, GET /alerts."""

from __future__ import annotations

from services.funds import codes
from tests.conftest import Api
from tests.funds.site import Site
from tests.funds.test_detectors import alerts, scan
from tests.funds.world import World


async def test_paying_part_of_a_project_account_leaves_the_rest_ageing(site: Site, admin: Api) -> None:
    w = site.world
    project_id = await site.project("in_progress")
    first = site.arrangement(project_id, 50_000, arranged_on="2018-03-01")
    assert (await w.fin_pilot.post("/funds/arrangements", json=first)).status_code == 201
    paid = await w.fin_pilot.post("/funds/disbursements", json=site.payment(project_id, 10_000, paid_on="2018-05-01"))
    assert paid.status_code == 201, paid.text
    later = site.arrangement(project_id, 7_000, arranged_on="2018-05-20")
    assert (await w.fin_pilot.post("/funds/arrangements", json=later)).status_code == 201
    subject = f"{site.county}:project:{w.source}:{project_id}"
    await scan(admin, "2018-05-30")  # the oldest 40,000 have been held 90 days: not yet
    assert await alerts(admin, codes.IDLE_FUNDS, subject) == []
    await scan(admin, "2018-05-31")  # 91 days: the 40,000 left of March are idle, May's 7,000 are not
    [alert] = await alerts(admin, codes.IDLE_FUNDS, subject)
    assert (alert["facts"]["amount_fen"], alert["facts"]["since"]) == (40_000, "2018-03-01")
    assert alert["facts"]["balance_fen"] == 47_000


async def test_paying_the_old_money_out_leaves_nothing_idle(site: Site, admin: Api) -> None:
    w = site.world
    project_id = await site.project("in_progress")
    for amount, on in ((30_000, "2018-03-01"), (20_000, "2018-04-20")):
        body = site.arrangement(project_id, amount, arranged_on=on)
        assert (await w.fin_pilot.post("/funds/arrangements", json=body)).status_code == 201
    paid = await w.fin_pilot.post("/funds/disbursements", json=site.payment(project_id, 30_000, paid_on="2018-05-01"))
    assert paid.status_code == 201, paid.text
    await scan(admin, "2018-07-19")  # the 20,000 of 04-20 are 90 days old: first in, first out, March's are spent
    assert await alerts(admin, codes.IDLE_FUNDS, f"{site.county}:project:{w.source}:{project_id}") == []
    await scan(admin, "2018-07-20")
    [alert] = await alerts(admin, codes.IDLE_FUNDS, f"{site.county}:project:{w.source}:{project_id}")
    assert (alert["facts"]["amount_fen"], alert["facts"]["since"]) == (20_000, "2018-04-20")


async def test_a_non_pilot_countys_fund_account_is_watched(world: World, admin: Api) -> None:
    assert (await world.appropriate(10_000)).status_code == 201
    assert (await world.allocate(4_000, to=world.poor, on="2018-02-01")).status_code == 201
    subject = f"{world.poor}:fund:{world.source}"
    await scan(admin, "2018-05-02")
    assert await alerts(admin, codes.IDLE_FUNDS, subject) == []
    await scan(admin, "2018-05-03")
    [alert] = await alerts(admin, codes.IDLE_FUNDS, subject)
    assert (alert["facts"]["amount_fen"], alert["facts"]["account"]) == (4_000, "fund")
    # a province's or city's accounts are F9's, not F3's
    assert await alerts(admin, codes.IDLE_FUNDS, f"{world.province}:treasury:{world.source}") == []

"""F9 (extended) end to end (issue #17 point 6): central money reaches the county within 30 days of the central
document however many levels it passes (province and city do not get 30 days each), first in, first out; the
province's own appropriations are not central transfers. Through the gateway: POST /alerts/scan, GET /alerts."""

from __future__ import annotations

from services.funds import codes
from tests.conftest import Api
from tests.funds.test_detectors import alerts, scan
from tests.funds.world import World, new_source_code, put_source

CENTRE = "000000"


async def _central(world: World, admin: Api, amount: int, on: str) -> str:
    """A new integrable central fund, appropriated at the centre and sent to the province on `on` (the central
    document)."""
    source = new_source_code()
    await put_source(admin, source, integrable=True)
    assert (await world.appropriate(amount, region=CENTRE, source=source, on="2018-01-02")).status_code == 201
    sent = await world.allocate(amount, api=world.central, frm=CENTRE, to=world.province, source=source, on=on)
    assert sent.status_code == 201, sent.text
    return source


async def test_province_and_city_share_the_30_days_of_the_central_document(world: World, admin: Api) -> None:
    source = await _central(world, admin, 10_000, "2018-03-01")
    assert (await world.allocate(10_000, to=world.city, source=source, on="2018-03-25")).status_code == 201
    late = await world.allocate(6_000, api=world.fin_city, frm=world.city, to=world.poor, source=source,
                                on="2018-04-20")
    assert late.status_code == 201, late.text
    subject = f"{world.province}:central:{source}"
    await scan(admin, "2018-03-31")  # 30 days after the central document: in time
    assert await alerts(admin, codes.LATE_PASS_DOWN, subject) == []
    await scan(admin, "2018-04-01")  # 31 days: the city received it 7 days ago, but the county still waits
    [alert] = await alerts(admin, codes.LATE_PASS_DOWN, subject)
    assert alert["region_code"] == world.province and alert["subject"]["kind"] == "central_transfer"
    assert (alert["facts"]["amount_fen"], alert["facts"]["since"]) == (10_000, "2018-03-01")
    assert await alerts(admin, codes.LATE_PASS_DOWN, f"{world.city}:fund:{source}") == []


async def test_what_reached_the_counties_in_time_is_not_late(world: World, admin: Api) -> None:
    source = await _central(world, admin, 10_000, "2018-03-01")
    assert (await world.allocate(6_000, to=world.pilot, source=source, on="2018-03-20")).status_code == 201
    await scan(admin, "2018-04-01")
    [alert] = await alerts(admin, codes.LATE_PASS_DOWN, f"{world.province}:central:{source}")
    assert alert["facts"]["amount_fen"] == 4_000


async def test_the_provinces_own_appropriation_is_not_a_central_transfer(world: World, admin: Api) -> None:
    source = new_source_code()
    await put_source(admin, source, integrable=True)
    assert (await world.appropriate(10_000, source=source, on="2018-03-01")).status_code == 201
    assert (await world.allocate(6_000, to=world.city, source=source, on="2018-03-05")).status_code == 201
    await scan(admin, "2018-06-01")  # held three months at the province and the city: no F9 finding
    found = [a for a in (await admin.get("/alerts", params={"type": codes.LATE_PASS_DOWN, "limit": 500})).json()[
        "items"] if source in a["subject"]["id"]]
    assert found == []

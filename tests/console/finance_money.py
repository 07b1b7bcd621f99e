"""Money in a province for the finance desk's tests (issue #19 point 4): a world of tests/funds (a city, a pilot poor
county, a poor county and a rich one, its own fund sources) in a real province, 430000 (Hunan) or 520000 (Guizhou),
with allocations in 2017 and 2018 whose growth to the poor counties falls below the average (F2), money sitting in
the pilot county's pool (F3), and central money the province has held past its 30 days (F9), found by a scan."""

from __future__ import annotations

import random
from dataclasses import dataclass

from tests.conftest import Api, MakePrincipal, scan_alerts
from tests.funds.world import World, doc, make_world, new_source_code, put_source

CENTRE = "000000"
PILOT_2018_FEN = 1_234_567  # shown as 12,345.67
POOL_FEN = 1_000_000 + PILOT_2018_FEN  # the pilot county's pool: 2017's and 2018's, shown as 22,345.67
LATE_FEN = 7_654_321  # central money held at the province, shown as 76,543.21
SCAN_DAY = "2018-04-05"  # 35 days after the central document


@dataclass
class Province:
    world: World
    pilot_doc: str  # the 2018 allocation into the pilot county
    late_source: str  # the central fund the province holds back


async def make_province(admin: Api, make_principal: MakePrincipal, province: str) -> Province:
    """A new city in `province` (its code drawn at random: other modules may make their own) and its money."""
    world = await make_world(admin, make_principal, pilot=f"{province[:2]}{random.randrange(70, 100)}01")
    assert (await world.appropriate(20_000_000, on="2017-01-05", year=2017)).status_code == 201
    pilot_doc = doc()
    for amount, to, year, doc_no in (
        (1_000_000, world.pilot, 2017, doc()), (1_000_000, world.rich, 2017, doc()),
        (PILOT_2018_FEN, world.pilot, 2018, pilot_doc), (3_000_000, world.rich, 2018, doc()),
    ):
        made = await world.fin_province.post("/funds/allocations", json=world.allocation(
            amount, to=to, on=f"{year}-02-01", year=year, doc_no=doc_no))
        assert made.status_code == 201, made.text
    late_source = new_source_code()
    await put_source(admin, late_source, integrable=True)
    assert (await world.appropriate(LATE_FEN, region=CENTRE, source=late_source, on="2018-01-02")).status_code == 201
    sent = await world.allocate(LATE_FEN, api=world.central, frm=CENTRE, to=world.province, source=late_source,
                                on="2018-03-01")
    assert sent.status_code == 201, sent.text
    await scan_alerts(await make_principal("inspector", world.province), SCAN_DAY)
    return Province(world, pilot_doc, late_source)

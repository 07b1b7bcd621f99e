"""Money for the trace and audit pages' tests: a county of a named province (Hunan 43, Guizhou 52) with an
appropriation → allocation → project arrangement → household payment chain, made through the API as in
tests/funds (site.py, world.py)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from tests.conftest import Api, MakePrincipal
from tests.funds.site import Site
from tests.funds.world import make_world
from tests.projects.factory import import_households


@dataclass
class Chain:
    site: Site
    allocation_id: str
    project_id: str
    household_id: str


def county_in(province: str) -> str:
    """A county code of `province` (two digits) that other tests are unlikely to use: a city and county of 50–99."""
    return f"{province}{random.randrange(50, 100)}{random.randrange(50, 100)}"


async def money_chain(admin: Api, make_principal: MakePrincipal, province: str) -> Chain:
    county = county_in(province)
    world = await make_world(admin, make_principal, pilot=county)
    households = await import_households(admin, county, ["poor", "exited", "not_poor"])
    pm = await make_principal("project_manager", county)
    assert (await world.appropriate(10_000_000)).status_code == 201
    allocated = await world.allocate(5_000_000, to=county)
    assert allocated.status_code == 201, allocated.text
    site = Site(world, county, pm, households)
    project_id = await site.project("in_progress")
    arranged = await world.fin_pilot.post("/funds/arrangements", json=site.arrangement(project_id, 400_000))
    assert arranged.status_code == 201, arranged.text
    paid = await world.fin_pilot.post("/funds/disbursements", json=site.payment(project_id, 150_000))
    assert paid.status_code == 201, paid.text
    return Chain(site, str(allocated.json()["id"]), project_id, households[0]["household_id"])

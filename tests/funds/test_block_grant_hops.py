"""F1 (extended) at every hop (issue #17 point 5): integrable money is issued in blocks all the way down, so an
allocation to a city or a province designates no project and attaches no unrelated task either."""

from __future__ import annotations

from services.funds import codes, rules
from tests.funds.world import World


async def test_f1_province_to_city_may_not_designate_a_project(world: World) -> None:
    assert (await world.appropriate(1_000_000)).status_code == 201
    refused = await world.allocate(1_000, to=world.city, designated_project_id="prj_x")
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == codes.BLOCK_GRANT_DESIGNATED_PROJECT and refused.json()["rule"] == "F1"
    assert refused.json()["field"] == "designated_project_id"
    assert await world.balances(world.city) == {}  # nothing moved
    allowed = await world.allocate(1_000, to=world.city)
    assert allowed.status_code == 201, allowed.text
    assert await world.balances(world.city) == {("fund", world.source, ""): 1_000}


async def test_f1_province_to_city_may_not_attach_unrelated_tasks(world: World) -> None:
    assert (await world.appropriate(1_000_000)).status_code == 201
    tasks = [{"text": "用于产业扶贫", "poverty_related": True}, {"text": "修建办公楼", "poverty_related": False}]
    refused = await world.allocate(1_000, to=world.city, tasks=tasks)
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == codes.BLOCK_GRANT_UNRELATED_TASK
    assert refused.json()["field"] == "tasks.1.poverty_related"
    assert (await world.allocate(1_000, to=world.city, tasks=tasks[:1])).status_code == 201


async def test_f1_centre_to_province_may_not_designate_a_project(world: World) -> None:
    assert (await world.appropriate(1_000_000, region="000000")).status_code == 201
    refused = await world.allocate(1_000, api=world.central, frm="000000", to=world.province,
                                   designated_project_id="prj_x")
    assert refused.status_code == 422 and refused.json()["code"] == codes.BLOCK_GRANT_DESIGNATED_PROJECT


async def test_f1_money_outside_the_scope_may_still_name_a_project_at_a_city(world: World) -> None:
    assert (await world.appropriate(1_000, source=world.plain)).status_code == 201
    allowed = await world.allocate(1_000, to=world.city, source=world.plain, designated_project_id="prj_x")
    assert allowed.status_code == 201, allowed.text
    assert await world.balances(world.city) == {("fund", world.plain, ""): 1_000}


def test_issued_in_blocks_at_every_hop_of_integrable_money() -> None:
    pilot, other = {"poor": True, "integration_pilot": True}, {"poor": True, "integration_pilot": False}
    assert rules.is_issued_in_blocks(integrable=True, to_region="430500", county=None)
    assert rules.is_issued_in_blocks(integrable=True, to_region="430000", county=None)
    assert rules.is_issued_in_blocks(integrable=True, to_region="430523", county=pilot)
    assert not rules.is_issued_in_blocks(integrable=True, to_region="430523", county=other)
    assert not rules.is_issued_in_blocks(integrable=False, to_region="430500", county=None)

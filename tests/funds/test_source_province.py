"""F21 a provincial fund source belongs to its province (issue #17 point 10: "provincial sources belong to their
province"; seed 002 "中央20项、省级14项": the provincial items are the province's own money). A provincial source names
its province; its money is appropriated in that province only, so it never reaches another. Through the gateway."""

from __future__ import annotations

from services.funds import codes
from tests.conftest import Api
from tests.funds.world import World, new_source_code


async def _put(admin: Api, code: str, **body: object) -> tuple[int, dict[str, object]]:
    response = await admin.put(f"/funds/sources/{code}", json={"name": f"省级资金{code}", "integrable": True, **body})
    return response.status_code, response.json()


async def test_a_provincial_source_names_its_province_and_a_central_one_none(world: World, admin: Api) -> None:
    code = new_source_code()
    status, answer = await _put(admin, code, level="provincial")
    assert (status, answer["code"], answer["field"]) == (422, "VALIDATION_ERROR", "province_code"), answer
    status, answer = await _put(admin, code, level="central", province_code=world.province)
    assert (status, answer["field"]) == (422, "province_code"), answer
    status, answer = await _put(admin, code, level="provincial", province_code=world.city)  # a city is no province
    assert (status, answer["field"]) == (422, "province_code"), answer
    assert (await admin.get(f"/funds/sources/{code}")).status_code == 404  # nothing kept
    status, answer = await _put(admin, code, level="provincial", province_code=world.province)
    assert status == 200 and answer["province_code"] == world.province, answer
    assert (await admin.get(f"/funds/sources/{code}")).json()["province_code"] == world.province


async def test_a_provincial_sources_money_is_appropriated_in_its_province_only(world: World, admin: Api) -> None:
    code = new_source_code()
    assert (await _put(admin, code, level="provincial", province_code=world.province))[0] == 200
    # its own province, and a city of it: appropriated; its money goes down to the counties as any other
    assert (await world.appropriate(10_000, source=code)).status_code == 201
    assert (await world.appropriate(5_000, source=code, region=world.city)).status_code == 201
    passed = await world.allocate(1_000, to=world.pilot, source=code)
    assert passed.status_code == 201, passed.text
    # another province, and the centre: refused, nothing recorded
    other = "71" if world.province[:2] != "71" else "72"
    for region in (f"{other}0000", "000000"):
        refused = await world.appropriate(10_000, source=code, region=region)
        assert refused.status_code == 422, refused.text
        problem = refused.json()
        assert (problem["code"], problem["field"], problem["rule"]) == (
            codes.SOURCE_OUTSIDE_PROVINCE, "region_code", codes.F21), problem
    elsewhere = (await world.central.get("/funds/balances", params={"region": f"{other}0000"})).json()
    assert not [b for b in elsewhere["items"] if b["fund_source"] == code], elsewhere
    # a central source is appropriated anywhere, as before
    assert (await world.appropriate(10_000, region="000000")).status_code == 201

"""Issue #16 point 1 (rule O13) for projects, through the gateway: a project answers to its owner unit, the
organisation it names (`owner_org`: one the gateway knows, whose region is the project's county or above it on its
line), else to the organisation of the project manager that recorded it; its detail and list show both, and
DUPLICATE_PROJECT names the unit answering for the later project of the pair."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.kernel import clock
from services.kernel.errors import RuleViolation
from services.projects import codes, rules
from services.projects.detectors import duplicate_pair
from tests.conftest import Api, MakePrincipal, scan_alerts
from tests.oversight.conftest import member, ok, organisation, refused
from tests.projects.conftest import County
from tests.projects.factory import create, new_county, project_body
from tests.projects.test_internal_and_detector import _project


def test_a_pair_answers_to_the_later_projects_unit_else_the_earlier() -> None:
    assert rules.responsible_org(recorded_by_org="org_office") == "org_office"
    assert rules.responsible_org(recorded_by_org="org_office", owner_org="org_unit") == "org_unit"
    assert rules.responsible_org(recorded_by_org=None, owner_org="org_unit") == "org_unit"
    assert rules.pair_responsible_org("org_a", "org_b") == "org_b"
    assert rules.pair_responsible_org("org_a", None) == "org_a"
    assert rules.pair_responsible_org(None, None) is None
    draft = duplicate_pair(_project("prj_b", "石门村光伏电站", responsible_org="org_b"),
                           _project("prj_a", "石门村光伏电站", responsible_org="org_a"))
    assert draft is not None and draft.responsible_org == "org_b"


async def test_a_project_answers_to_the_unit_that_recorded_it_and_its_alert_names_it(
    county: County, admin: Api, http: httpx.AsyncClient, make_principal: MakePrincipal
) -> None:
    office = await organisation(admin, "poverty_office", county.code)
    unit = await organisation(admin, "project_unit", county.code)
    officer = await member(admin, http, "project_manager", county.code, office)
    engineer = await member(admin, http, "project_manager", county.code, unit)

    first = await create(officer, project_body(county.code, county.poor, name="白水村光伏扶贫电站项目"))
    assert (first["recorded_by_org"], first["responsible_org"]) == (office, office)
    second = await create(engineer, project_body(county.code, county.poor, name="白水村 光伏扶贫电站工程"))
    assert (second["recorded_by_org"], second["responsible_org"]) == (unit, unit)
    inspector = await make_principal("inspector", county.code)
    detail = ok(await inspector.get(f"/projects/{first['id']}"))
    assert (detail["recorded_by_org"], detail["responsible_org"]) == (office, office)

    await scan_alerts(admin, clock.today().isoformat())
    found = ok(await inspector.get("/alerts", params={"type": codes.DUPLICATE_PROJECT, "region": county.code}))
    [alert] = [a for a in found["items"] if sorted(a["facts"]["project_ids"]) == sorted([first["id"], second["id"]])]
    assert alert["subject"]["responsible_org"] == unit  # the later project's unit


def _sibling(county: str) -> str:
    """Another county of the same city."""
    return county[:4] + ("98" if county[4:] == "99" else "99")


def test_an_owner_unit_is_known_and_of_the_county_or_above_it_on_its_line() -> None:
    county = "430523"
    for region in (county, "430500", "430000", "000000"):  # the county, its city, its province, the centre
        assert rules.check_owner_org("org_x", {"id": "org_x", "region_code": region}, county) == "org_x"
    with pytest.raises(RuleViolation) as unknown:
        rules.check_owner_org("org_x", None, county)
    assert (unknown.value.code, unknown.value.status) == (codes.UNKNOWN_ORGANISATION, 422)
    assert (unknown.value.field, unknown.value.rule) == ("owner_org", codes.O13)
    for region in ("430524", "430600", "440000"):  # a sibling county, another city, another province
        with pytest.raises(RuleViolation) as outside:
            rules.check_owner_org("org_x", {"id": "org_x", "region_code": region}, county)
        assert (outside.value.code, outside.value.field, outside.value.rule) == (
            codes.ORGANISATION_REGION, "owner_org", codes.O13)


async def _projects_of(api: Api, county: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = ok(await api.get("/projects", params={"county": county}))["items"]
    return items


async def test_a_project_answers_to_the_owner_unit_it_names(
    county: County, admin: Api, http: httpx.AsyncClient, make_principal: MakePrincipal
) -> None:
    office = await organisation(admin, "poverty_office", county.code)
    unit = await organisation(admin, "project_unit", county.code)
    city_bureau = await organisation(admin, "other", county.code[:4] + "00")
    officer = await member(admin, http, "project_manager", county.code, office)

    owned = await create(officer, project_body(county.code, county.poor, owner_org=unit))
    assert (owned["recorded_by_org"], owned["responsible_org"]) == (office, unit)
    by_city = await create(officer, project_body(county.code, county.poor, owner_org=city_bureau))
    assert (by_city["recorded_by_org"], by_city["responsible_org"]) == (office, city_bureau)
    unnamed = await create(officer, project_body(county.code, county.poor))
    assert (unnamed["recorded_by_org"], unnamed["responsible_org"]) == (office, office)  # as before O13's owner

    inspector = await make_principal("inspector", county.code)
    detail = ok(await inspector.get(f"/projects/{owned['id']}"))
    assert (detail["recorded_by_org"], detail["responsible_org"]) == (office, unit)
    listed = {p["id"]: (p["recorded_by_org"], p["responsible_org"]) for p in await _projects_of(inspector, county.code)}
    assert listed == {owned["id"]: (office, unit), by_city["id"]: (office, city_bureau),
                      unnamed["id"]: (office, office)}


async def test_an_unknown_or_another_countys_owner_unit_is_refused_and_nothing_is_recorded(
    county: County, admin: Api
) -> None:
    sibling = await organisation(admin, "project_unit", _sibling(county.code))
    elsewhere = await organisation(admin, "project_unit", new_county())
    never_made = "org_" + "0" * 26
    for owner in (never_made, sibling, elsewhere):
        response = await county.pm.post("/projects", json=project_body(county.code, county.poor, owner_org=owner))
        code = codes.UNKNOWN_ORGANISATION if owner == never_made else codes.ORGANISATION_REGION
        refused(response, 422, code, rule=codes.O13, field="owner_org")
    refused(await county.pm.post("/projects", json=project_body(county.code, county.poor, owner_org="not an id")),
            422, "VALIDATION_ERROR", field="owner_org")
    assert await _projects_of(county.pm, county.code) == []  # nothing was created


async def test_a_duplicate_names_the_owner_unit_of_the_later_project(
    county: County, admin: Api, make_principal: MakePrincipal
) -> None:
    unit = await organisation(admin, "project_unit", county.code)
    first = await create(county.pm, project_body(county.code, county.poor, name="青石村茶叶种植基地项目"))
    second = await create(county.pm, project_body(county.code, county.poor, name="青石村 茶叶种植基地工程",
                                                  owner_org=unit))
    assert second["responsible_org"] == unit != first["responsible_org"]

    await scan_alerts(admin, clock.today().isoformat())
    inspector = await make_principal("inspector", county.code)
    found = ok(await inspector.get("/alerts", params={"type": codes.DUPLICATE_PROJECT, "region": county.code}))
    [alert] = [a for a in found["items"] if sorted(a["facts"]["project_ids"]) == sorted([first["id"], second["id"]])]
    assert alert["subject"]["responsible_org"] == unit  # the later project's owner unit, not its recorder's

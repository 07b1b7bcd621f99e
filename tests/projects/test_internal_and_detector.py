"""The internal API funds uses, and the DUPLICATE_PROJECT detector (P5) on both sides of the threshold."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from services.kernel import clock
from services.projects import codes, rules
from services.projects.detectors import duplicate_pair
from services.projects.models import Project
from tests.conftest import Api, MakePrincipal, scan_alerts, signed
from tests.projects.conftest import County
from tests.projects.factory import create, project_body, project_in, village_of
from tests.projects.test_internal_lookup import FUNDS
from tests.stack import Stack


async def test_internal_project_for_funds(county: County, stack: Stack) -> None:
    project_id = await project_in(county.pm, county.code, county.poor, "approved")
    base = stack.service_urls["projects"]
    async with httpx.AsyncClient() as client:
        url = f"{base}/internal/projects/{project_id}"
        response = await client.get(url, headers=signed(stack, "GET", url, FUNDS))
        assert response.status_code == 200
        assert response.json() == {
            "id": project_id, "county_code": county.code, "village_code": village_of(county.code),
            "name": response.json()["name"], "category": "industry", "status": "approved", "budget_fen": 50_000_000,
            "negative_list": False,
        }
        url = f"{base}/internal/projects/prj_unknown"
        assert (await client.get(url, headers=signed(stack, "GET", url, FUNDS))).status_code == 404
        assert (await client.get(f"{base}/internal/projects/{project_id}")).status_code == 401


def _project(pid: str, name: str, start: str = "2018-01-01", end: str = "2018-12-31", **kw: Any) -> Project:
    values: dict[str, Any] = {
        "id": pid, "county_code": "430523", "village_code": "430523101001", "name": name, "category": "industry",
        "budget_fen": 100, "start_on": date.fromisoformat(start), "end_on": date.fromisoformat(end),
        "status": "approved",
    }
    values.update(kw)
    return Project(**values)


def test_duplicate_pair_both_sides() -> None:
    a = _project("prj_a", "石门村光伏电站建设项目")
    draft = duplicate_pair(a, _project("prj_b", "石门村 光伏电站工程"))
    assert draft is not None and draft.type == codes.DUPLICATE_PROJECT
    assert draft.facts["project_ids"] == ["prj_a", "prj_b"] and draft.facts["similarity"] == 1.0
    assert draft.facts["names"] == ["石门村光伏电站建设项目", "石门村 光伏电站工程"]
    assert draft.facts["threshold"] == rules.DUPLICATE_NAME_THRESHOLD
    assert duplicate_pair(a, _project("prj_c", "石门村茶叶种植基地")) is None  # names differ
    assert duplicate_pair(a, _project("prj_d", "石门村光伏电站", start="2019-01-01", end="2019-06-30")) is None
    assert duplicate_pair(a, _project("prj_e", "石门村光伏电站", category="employment")) is None
    assert duplicate_pair(a, _project("prj_f", "石门村光伏电站", village_code="430523101002")) is None


async def test_duplicate_project_detector_through_the_scan(
    county: County, admin: Api, make_principal: MakePrincipal
) -> None:
    first = await create(county.pm, project_body(county.code, county.poor, name="青山村光伏扶贫电站项目"))
    second = await create(county.pm, project_body(county.code, county.poor, name="青山村 光伏扶贫电站工程",
                                                  start_on="2018-06-01", end_on="2019-05-31"))
    far = await create(county.pm, project_body(county.code, county.poor, name="青山村村道硬化",
                                               category="industry"))
    scan = await scan_alerts(admin, clock.today().isoformat())
    assert scan["raised"][codes.DUPLICATE_PROJECT] >= 1
    inspector = await make_principal("inspector", county.code)
    alerts = (await inspector.get("/alerts", params={"type": codes.DUPLICATE_PROJECT, "region": county.code})).json()
    assert len(alerts["items"]) == 1
    facts = alerts["items"][0]["facts"]
    assert sorted(facts["project_ids"]) == sorted([first["id"], second["id"]])
    assert far["id"] not in facts["project_ids"]
    assert facts["similarity"] >= facts["threshold"] and len(facts["names"]) == 2
    again = await scan_alerts(admin, clock.today().isoformat())
    assert again["raised"][codes.DUPLICATE_PROJECT] == 0
    alerts = (await inspector.get("/alerts", params={"type": codes.DUPLICATE_PROJECT, "region": county.code})).json()
    assert len(alerts["items"]) == 1  # a second scan raises no duplicate

"""P1–P4, P7 through the gateway, both sides; another county's manager refused; bad input → 422 naming the field."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from services.kernel import clock
from services.projects import codes
from tests.conftest import Api, MakePrincipal
from tests.projects.conftest import County
from tests.projects.factory import act, action_body, create, new_county, project_body, project_in


async def _status(pm: Api, project_id: str) -> str:
    return str((await pm.get(f"/projects/{project_id}")).json()["status"])


async def test_p3_poor_exited_returned_beneficiaries_submit(county: County) -> None:
    project_id = (await create(county.pm, project_body(county.code, county.poor)))["id"]
    response = await act(county.pm, project_id, "submit")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "submitted"


@pytest.mark.parametrize("case", ["none", "unknown", "not_poor"])
async def test_p3_refused(county: County, case: str) -> None:
    beneficiaries = {
        "none": [],
        "unknown": [county.poor[0], f"hh-unknown-{uuid.uuid4().hex[:8]}"],
        "not_poor": [county.poor[0], county.not_poor],
    }[case]
    project_id = (await create(county.pm, project_body(county.code, beneficiaries)))["id"]
    response = await act(county.pm, project_id, "submit")
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == codes.NO_POOR_BENEFICIARIES and "P3" in problem["detail"]
    assert (problem["rule"], problem["field"]) == (codes.P3, "beneficiary_household_ids")
    if case != "none":
        assert problem["households"] == [beneficiaries[1]]
    assert await _status(county.pm, project_id) == "draft"


@pytest.mark.parametrize("category", ["office_building", "vehicles_equipment", "image_project"])
async def test_p4_negative_list_refused_at_submit(county: County, category: str) -> None:
    project_id = (await create(county.pm, project_body(county.code, county.poor, category=category)))["id"]
    response = await act(county.pm, project_id, "submit")
    assert response.status_code == 422
    assert response.json()["code"] == codes.NEGATIVE_LIST and "P4" in response.json()["detail"]
    assert (response.json()["rule"], response.json()["field"]) == (codes.P4, "category")
    assert await _status(county.pm, project_id) == "draft"


async def test_p4_positive_category_submits(county: County) -> None:
    project_id = (await create(county.pm, project_body(county.code, county.poor, category="infrastructure")))["id"]
    assert (await act(county.pm, project_id, "submit")).status_code == 200


async def test_p7_no_performance_targets_refused(county: County) -> None:
    project_id = (await create(county.pm, project_body(county.code, county.poor, performance_targets=[])))["id"]
    response = await act(county.pm, project_id, "submit")
    assert response.status_code == 422 and response.json()["code"] == codes.NO_PERFORMANCE_TARGETS
    assert (response.json()["rule"], response.json()["field"]) == (codes.P7, "performance_targets")
    assert await _status(county.pm, project_id) == "draft"


async def test_p1_announcement_of_nine_days_refused_ten_accepted(county: County, db: asyncpg.Pool) -> None:
    project_id = await project_in(county.pm, county.code, county.poor, "reviewed")
    response = await act(county.pm, project_id, "announce", action_body("announce", days=9))
    assert response.status_code == 422
    assert response.json()["code"] == codes.ANNOUNCEMENT_TOO_SHORT and response.json()["field"] == "days"
    assert response.json()["rule"] == codes.P1
    assert await _status(county.pm, project_id) == "reviewed"
    assert await db.fetchval("SELECT count(*) FROM projects.announcements WHERE project_id = $1", project_id) == 0
    response = await act(county.pm, project_id, "announce", action_body("announce", days=10))
    assert response.status_code == 200 and response.json()["status"] == "announced"


async def test_p1_approve_while_the_announcement_runs_refused(county: County) -> None:
    project_id = await project_in(county.pm, county.code, county.poor, "reviewed")
    start = clock.today() - timedelta(days=9)  # ten days: ends (the day after the last) tomorrow
    assert (await act(county.pm, project_id, "announce", action_body("announce", announce_start=start))).is_success
    response = await act(county.pm, project_id, "approve")
    assert response.status_code == 422 and response.json()["code"] == codes.ANNOUNCEMENT_TOO_SHORT
    assert response.json()["announcement_ends_on"] == (start + timedelta(days=10)).isoformat()
    assert await _status(county.pm, project_id) == "announced"


async def test_p1_approve_on_the_day_the_announcement_ends(county: County) -> None:
    project_id = await project_in(county.pm, county.code, county.poor, "reviewed")
    start = clock.today() - timedelta(days=10)
    assert (await act(county.pm, project_id, "announce", action_body("announce", announce_start=start))).is_success
    assert (await act(county.pm, project_id, "approve")).status_code == 200


async def test_p1_open_objection_blocks_approval_until_resolved(county: County, make_principal: MakePrincipal) -> None:
    project_id = await project_in(county.pm, county.code, county.poor, "announced")
    inspector = await make_principal("inspector", county.code)
    objection = await inspector.post(f"/projects/{project_id}/objections", json={"text": "受益户名单有误"})
    assert objection.status_code == 201 and objection.json()["status"] == "open"
    response = await act(county.pm, project_id, "approve")
    assert response.status_code == 422 and response.json()["code"] == codes.OPEN_OBJECTIONS
    assert response.json()["objections"] == [objection.json()["id"]]
    resolved = await county.pm.post(
        f"/projects/{project_id}/objections/{objection.json()['id']}/resolve", json={"resolution": "已核实更正"}
    )
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    assert (await act(county.pm, project_id, "approve")).status_code == 200


async def test_p2_another_countys_manager_refused(county: County, make_principal: MakePrincipal) -> None:
    other = await make_principal("project_manager", new_county())
    project_id = await project_in(county.pm, county.code, county.poor, "announced")
    for action in ("approve", "reject", "withdraw"):
        response = await act(other, project_id, action)
        assert response.status_code == 403 and response.json()["code"] == "NOT_IN_JURISDICTION", action
    assert (await other.get(f"/projects/{project_id}")).status_code == 403
    listed = await other.get("/projects", params={"county": county.code})
    assert listed.status_code == 403
    response = await other.post("/projects", json=project_body(county.code, county.poor))
    assert response.status_code == 403 and response.json()["code"] == "NOT_IN_JURISDICTION"
    # the city above covers the county but may not approve: approval is the county's own (P2)
    city = await make_principal("project_manager", county.code[:4] + "00")
    refused = await act(city, project_id, "approve")
    assert refused.status_code == 403 and refused.json()["code"] == "NOT_IN_JURISDICTION"
    # finance and inspectors read but may not act
    finance = await make_principal("finance", county.code)
    assert (await finance.get(f"/projects/{project_id}")).status_code == 200
    assert (await act(finance, project_id, "start")).status_code == 403


BAD_INPUT: list[tuple[str, dict[str, Any]]] = [
    ("county_code", {"county_code": "430500"}),
    ("county_code", {"county_code": "43052"}),
    ("village_code", {"village_code": "439999101001"}),
    ("village_code", {"village_code": "12345"}),
    ("end_on", {"start_on": "2018-06-01", "end_on": "2018-05-31"}),
    ("start_on", {"start_on": "2018-02-30"}),
    ("budget_fen", {"budget_fen": 0}),
    ("budget_fen", {"budget_fen": 12.5}),
    ("budget_fen", {"budget_fen": "100"}),
    ("category", {"category": "fireworks"}),
    ("name", {"name": ""}),
    ("benefit_mechanism", {"benefit_mechanism": None}),
    ("performance_targets.0.target", {"performance_targets": [{"indicator": "增收"}]}),
    ("beneficiary_household_ids", {"beneficiary_household_ids": ["hh-1", "hh-1"]}),
    ("budget_fem", {"budget_fem": 1}),
]


@pytest.mark.parametrize(("field", "change"), BAD_INPUT)
async def test_bad_input_is_422_naming_the_field_and_writes_nothing(
    county: County, db: asyncpg.Pool, field: str, change: dict[str, Any]
) -> None:
    name = f"坏输入-{uuid.uuid4().hex[:8]}"
    body = project_body(county.code if "county_code" in change else county.code, county.poor, name=name)
    body.update(change)
    if "county_code" in change:
        body["village_code"] = county.code + "101001"
    response = await county.pm.post("/projects", json=body)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "VALIDATION_ERROR"
    assert problem["field"] == field, problem
    assert await db.fetchval("SELECT count(*) FROM projects.projects WHERE name = $1", name) == 0

"""Existence oracles across counties (A5): what a key of another county learns about a county's projects and
households through the projects service is no more than "not found" or "outside your jurisdiction": never the
project's county, name or status, nor whether another county's household is registered or poor. Through the gateway.
"""

from __future__ import annotations

from services.kernel.errors import NOT_IN_JURISDICTION
from services.projects import codes
from tests.conftest import Api, MakePrincipal
from tests.projects.conftest import County
from tests.projects.factory import act, create, import_households, new_county, project_body, project_in


async def test_a_manager_of_another_county_learns_nothing_of_the_project(
    county: County, make_principal: MakePrincipal
) -> None:
    name = "某村光伏扶贫电站-保密"
    project_id = await project_in(county.pm, county.code, county.poor, "announced", name=name)
    stranger = await make_principal("project_manager", new_county())
    for response in (await stranger.get(f"/projects/{project_id}"), await act(stranger, project_id, "withdraw"),
                     await act(stranger, project_id, "approve", {})):
        problem = response.json()
        assert response.status_code == 403 and problem["code"] == NOT_IN_JURISDICTION, response.text
        assert county.code not in problem["detail"] and name not in problem["detail"], problem
        assert "announced" not in response.text and "status_now" not in problem
    assert (await county.pm.get(f"/projects/{project_id}")).status_code == 200  # the county's own manager reads it


async def test_a_key_of_another_county_cannot_tell_an_unannounced_project_from_none(
    county: County, make_principal: MakePrincipal
) -> None:
    draft = await project_in(county.pm, county.code, county.poor, "draft")
    announced = await project_in(county.pm, county.code, county.poor, "announced")
    stranger = await make_principal("lender", new_county())
    missing = await stranger.post("/projects/prj_no_such_project/objections", json={"text": "异议"})
    hidden = await stranger.post(f"/projects/{draft}/objections", json={"text": "异议"})
    assert missing.status_code == hidden.status_code == 404, hidden.text
    assert (missing.json()["code"], missing.json()["title"]) == (hidden.json()["code"], hidden.json()["title"])
    assert "draft" not in hidden.text
    assert (await stranger.post(f"/projects/{announced}/objections", json={"text": "异议"})).status_code == 201
    own = await make_principal("lender", county.code)  # inside the county the project's state is no secret
    assert (await own.post(f"/projects/{draft}/objections", json={"text": "异议"})).json()["code"] == \
        codes.NOT_ANNOUNCED


async def test_p3_counts_only_households_of_the_projects_county(county: County, admin: Api) -> None:
    """A household of another county is answered as one not on the roster, poor or not: submitting a project tells
    nothing of other counties' households."""
    elsewhere = await import_households(admin, new_county(), ["poor", "not_poor"])
    answers = []
    for beneficiary in (elsewhere[0]["household_id"], elsewhere[1]["household_id"], "hh-on-no-roster"):
        project = await create(county.pm, project_body(county.code, [county.poor[0], beneficiary]))
        refused = await act(county.pm, project["id"], "submit")
        assert refused.status_code == 422 and refused.json()["code"] == codes.NO_POOR_BENEFICIARIES, refused.text
        assert refused.json()["households"] == [beneficiary]
        answers.append(refused.json()["detail"].replace(beneficiary, "?"))
    assert answers[0] == answers[1] == answers[2]
    own = await create(county.pm, project_body(county.code, county.poor))
    assert (await act(county.pm, own["id"], "submit")).status_code == 200

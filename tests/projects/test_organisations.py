"""Issue #16 point 1 (rule O13) for projects, through the gateway: a project carries the organisation of the project
manager that recorded it, which is its owner unit and answers for it (a project names its owner unit only as text);
its detail shows both and DUPLICATE_PROJECT names the unit answering for the later project of the pair."""

from __future__ import annotations

import httpx

from services.kernel import clock
from services.projects import codes, rules
from services.projects.detectors import duplicate_pair
from tests.conftest import Api, MakePrincipal, scan_alerts
from tests.oversight.conftest import member, ok, organisation
from tests.projects.conftest import County
from tests.projects.factory import create, project_body
from tests.projects.test_internal_and_detector import _project


def test_a_pair_answers_to_the_later_projects_unit_else_the_earlier() -> None:
    assert rules.responsible_org(recorded_by_org="org_office") == "org_office"
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

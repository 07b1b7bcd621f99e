"""Issue #16 point 1 (rule O13) for the registry: a household import carries the importing principal's organisation,
which answers for it; rows of imports made before have none."""

from __future__ import annotations

import asyncpg
import httpx

from services.registry import rules
from tests.conftest import Api
from tests.oversight.conftest import member, organisation
from tests.projects.factory import HEADER, id_number, new_county, village_of


def test_the_importing_organisation_answers_for_an_import() -> None:
    assert rules.responsible_org(importing_org="org_office") == "org_office"
    assert rules.responsible_org(importing_org=None) is None


async def test_an_import_carries_the_organisation_that_sent_it(
    admin: Api, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    county = new_county()
    office = await organisation(admin, "poverty_office", county)
    officer = await member(admin, http, "project_manager", county, office)
    line = f"hh-org-{county}-1,{id_number(county, 1)},户主,{county},{village_of(county)},poor,3,0,6217000000000001"
    response = await officer.post("/registry/households/import", content=f"{HEADER}\n{line}\n".encode(),
                                  headers={"content-type": "text/csv"})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["imported"] == 1 and (answer["recorded_by_org"], answer["responsible_org"]) == (office, office)
    row = await db.fetchrow("SELECT principal_id, recorded_by_org, responsible_org FROM registry.household_imports "
                            "WHERE id = $1", answer["import_id"])
    assert row is not None and (row["principal_id"], row["recorded_by_org"], row["responsible_org"]) == (
        officer.principal_id, office, office)

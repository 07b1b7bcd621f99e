"""A5: the registry's refusals about another county's household say no more than that it is outside the caller's
jurisdiction: never that county. Through the gateway."""

from __future__ import annotations

from services.kernel.errors import NOT_IN_JURISDICTION
from services.registry import codes
from tests.conftest import Api, MakePrincipal
from tests.registry.api import import_csv
from tests.registry.factory import csv_body, new_county, row


async def test_an_import_refusing_another_countys_household_does_not_name_that_county(
    admin: Api, make_principal: MakePrincipal
) -> None:
    mine, other = new_county(), new_county()
    taken = row(other)
    assert (await import_csv(admin, csv_body(taken))).json()["imported"] == 1
    manager = await make_principal("project_manager", mine)
    response = await import_csv(manager, csv_body(row(mine), row(mine, household_id=taken.household_id)))
    assert response.status_code == 200 and response.json()["imported"] == 1, response.text
    [refused] = response.json()["rejected"]
    assert (refused["line"], refused["code"]) == (3, codes.LINE_NOT_IN_JURISDICTION)
    assert other not in refused["detail"] and taken.household_id in refused["detail"]


async def test_reading_another_countys_household_names_nothing_of_it(admin: Api, make_principal: MakePrincipal) -> None:
    household = row(new_county())
    assert (await import_csv(admin, csv_body(household))).json()["imported"] == 1
    stranger = await make_principal("lender", new_county())
    response = await stranger.get(f"/registry/households/{household.household_id}")
    assert response.status_code == 403 and response.json()["code"] == NOT_IN_JURISDICTION
    for secret in (household.county_code, household.head_name, household.status):
        assert secret not in response.json()["detail"], secret

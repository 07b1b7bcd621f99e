"""Typed calls to the registry's internal API (brief: POST /internal/households/eligibility), to the funds'
for what a project was given and paid (its public page, U2), and to the gateway's for the organisation a project
names as its owner unit (O13, issue #16)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, cast
from urllib.parse import quote

from fastapi import Depends

from services.kernel.http import ServiceClient, service_dependency
from services.projects import problems

LOOKUP_BATCH = 1000  # the registry's lookup takes at most this many ids a call


async def household_ineligibility(registry: ServiceClient, household_ids: Sequence[str]) -> dict[str, list[str]]:
    """The registry's reasons why each household may not benefit, on its current roster (empty when it may): the
    registry alone defines eligibility (L1, P3, F10); a household not on the roster is `not_registered`.

    The registry being down or failing is a 503 (ServiceUnavailable), so the caller's transaction rolls back.
    """
    answers = await registry.post_items(
        "/internal/households/eligibility", [{"household_id": h} for h in household_ids]
    )
    return {str(a["household_id"]): [str(reason) for reason in a["reasons"]] for a in answers}


async def household_counties(registry: ServiceClient, household_ids: Sequence[str]) -> dict[str, str]:
    """The county of each household on the roster (a household not on it is absent); 503 if the registry fails."""
    counties: dict[str, str] = {}
    for start in range(0, len(household_ids), LOOKUP_BATCH):
        batch = list(household_ids[start:start + LOOKUP_BATCH])
        response = await registry.request("POST", "/internal/households/lookup", json={"household_ids": batch})
        if response.status_code != 200:
            raise problems.registry_lookup_failed(response.status_code)
        counties.update({str(item["household_id"]): str(item["county_code"]) for item in response.json()["items"]})
    return counties


class Registry:
    """The registry's internal API as P3 asks it."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    async def ineligibility(self, household_ids: Sequence[str]) -> dict[str, list[str]]:
        return await household_ineligibility(self.client, household_ids)

    async def counties(self, household_ids: Sequence[str]) -> dict[str, str]:
        return await household_counties(self.client, household_ids)


RegistryDep = Annotated[Registry, Depends(service_dependency("registry", Registry))]


class Funds:
    """The funds service's internal API as the public page of a project asks it (U2)."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    async def project_money(self, project_id: str) -> tuple[int, int]:
        """(arranged_fen, paid_fen) of the project, as the funds ledger has them; 503 if funds fails."""
        found = await self.client.get_json(f"/internal/projects/{quote(project_id, safe='')}/money")
        if found is None:
            raise problems.funds_lookup_failed(404)
        return int(found["arranged_fen"]), int(found["paid_fen"])


    async def pay_dividend(self, body: dict[str, Any]) -> dict[str, Any]:
        """P12: funds pays a dividend through its ledger into the households' 一卡通 accounts (once per dividend id);
        its refusals (F6, F10, S9, 409) are passed on as it worded them; 503 if it fails."""
        response = await self.client.request("POST", "/internal/dividends", json=body)
        if response.status_code in (409, 422):
            raise problems.relayed(response.status_code, response.json())
        if response.status_code != 200:
            raise problems.funds_lookup_failed(response.status_code)
        answer: dict[str, Any] = response.json()
        return answer


FundsDep = Annotated[Funds, Depends(service_dependency("funds", Funds))]


class Gateway:
    """The gateway's internal API as the projects service asks it: an organisation (单位) by id (O13)."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    async def organisation(self, organisation_id: str) -> dict[str, Any] | None:
        """`{id, name, kind, region_code, ...}`, or None when the gateway knows no such organisation; 503 if it
        fails."""
        found = await self.client.get_json(f"/internal/organisations/{quote(organisation_id, safe='')}")
        return cast(dict[str, Any] | None, found)


GatewayDep = Annotated[Gateway, Depends(service_dependency("gateway", Gateway))]

"""Typed calls to the registry's internal API (brief: POST /internal/households/eligibility)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import Depends, Request

from services.kernel.errors import ServiceUnavailable
from services.kernel.http import ServiceClient, client_of

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
            raise ServiceUnavailable(
                f"registry 服务出错 / the registry answered {response.status_code} to a lookup", service="registry"
            )
        counties.update({str(item["household_id"]): str(item["county_code"]) for item in response.json()["items"]})
    return counties


def registry_of(request: Request) -> ServiceClient:
    return client_of(request, "registry")


# The registry's internal API as a route dependency (household_ineligibility and household_counties take it).
RegistryDep = Annotated[ServiceClient, Depends(registry_of)]

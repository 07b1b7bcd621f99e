"""Typed calls to the registry's internal API (brief: POST /internal/households/eligibility)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.kernel.errors import ServiceUnavailable
from services.kernel.http import ServiceClient

ELIGIBILITY_BATCH = 1000  # the registry's limit per call


async def household_ineligibility(registry: ServiceClient, household_ids: Sequence[str]) -> dict[str, list[str]]:
    """The registry's reasons why each household may not benefit, on its current roster (empty when it may): the
    registry alone defines eligibility (L1, P3, F10); a household not on the roster is `not_registered`.

    The registry being down or failing is a 503 (ServiceUnavailable), so the caller's transaction rolls back.
    """
    reasons: dict[str, list[str]] = {}
    for start in range(0, len(household_ids), ELIGIBILITY_BATCH):
        batch = [{"household_id": h} for h in household_ids[start : start + ELIGIBILITY_BATCH]]
        response = await registry.request("POST", "/internal/households/eligibility", json={"items": batch})
        if response.status_code != 200:
            raise ServiceUnavailable(
                f"登记库服务出错 / the registry answered {response.status_code} to an eligibility query",
                service=registry.name,
            )
        body: dict[str, Any] = response.json()
        for item in body["items"]:
            reasons[str(item["household_id"])] = [str(reason) for reason in item["reasons"]]
    return reasons

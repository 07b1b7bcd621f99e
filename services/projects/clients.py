"""Typed calls to the registry's internal API (brief: POST /internal/households/lookup)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.kernel.errors import ServiceUnavailable
from services.kernel.http import ServiceClient

LOOKUP_BATCH = 1000


async def household_statuses(registry: ServiceClient, household_ids: Sequence[str]) -> dict[str, str]:
    """The registry status of each household that is registered; unknown households are absent.

    The registry being down or failing is a 503 (ServiceUnavailable), so the caller's transaction rolls back.
    """
    statuses: dict[str, str] = {}
    for start in range(0, len(household_ids), LOOKUP_BATCH):
        batch = list(household_ids[start : start + LOOKUP_BATCH])
        response = await registry.request("POST", "/internal/households/lookup", json={"household_ids": batch})
        if response.status_code != 200:
            raise ServiceUnavailable(
                f"登记库服务出错 / the registry answered {response.status_code} to a household lookup",
                service=registry.name,
            )
        body: dict[str, Any] = response.json()
        for item in body.get("items", []):
            statuses[str(item["household_id"])] = str(item["status"])
    return statuses

"""Typed calls to the registry's internal API (helper brief: "Internal API contracts between services")."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from services.kernel.errors import ServiceUnavailable
from services.kernel.http import ServiceClient
from services.loans.rules import Household

LOOKUP_BATCH = 1000  # the registry's limit per lookup
LOOKUP_CONCURRENCY = 8


def household_of(data: dict[str, Any]) -> Household:
    return Household(
        household_id=str(data["household_id"]),
        head_id_number=str(data["head_id_number"]),
        head_name=str(data.get("head_name", "")),
        county_code=str(data["county_code"]),
        village_code=str(data.get("village_code", "")),
        status=str(data["status"]),
        members=int(data.get("members", 0)),
        village_cadre=bool(data.get("village_cadre", False)),
        card_account=str(data.get("card_account", "")),
    )


class Registry:
    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    async def household(self, household_id: str) -> Household | None:
        data = await self.client.get_json(f"/internal/households/{household_id}")
        return None if data is None else household_of(data)

    async def lookup(self, household_ids: Sequence[str]) -> dict[str, Household]:
        """Many households at once: batches of 1000, a few batches in flight at a time."""
        batches = [household_ids[i:i + LOOKUP_BATCH] for i in range(0, len(household_ids), LOOKUP_BATCH)]
        gate = asyncio.Semaphore(LOOKUP_CONCURRENCY)

        async def one(batch: Sequence[str]) -> list[Household]:
            async with gate:
                response = await self.client.request(
                    "POST", "/internal/households/lookup", json={"household_ids": list(batch)}
                )
            if response.status_code != 200:
                raise ServiceUnavailable(
                    f"registry 服务出错 / the registry answered {response.status_code}", service="registry"
                )
            return [household_of(item) for item in response.json()["items"]]

        found: dict[str, Household] = {}
        for households in await asyncio.gather(*(one(b) for b in batches)):
            found.update((h.household_id, h) for h in households)
        return found

"""Typed calls to the registry's internal API (helper brief: "Internal API contracts between services")."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date
from typing import Any

from services.kernel.errors import ServiceUnavailable
from services.kernel.http import ServiceClient
from services.loans.rules import Eligibility, Household

ELIGIBILITY_BATCH = 1000  # the registry's limit per call
ELIGIBILITY_CONCURRENCY = 8


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


def eligibility_of(data: dict[str, Any]) -> Eligibility:
    return Eligibility(
        household_id=str(data["household_id"]),
        reasons=tuple(str(reason) for reason in data["reasons"]),
        status=data.get("status"),
        village_cadre=data.get("village_cadre"),
    )


class Registry:
    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    async def household(self, household_id: str) -> Household | None:
        data = await self.client.get_json(f"/internal/households/{household_id}")
        return None if data is None else household_of(data)

    async def eligibility(self, household_id: str, on: date) -> Eligibility:
        """L1 on a date, as the registry judges it (a household not on the roster then is `not_registered`)."""
        data = await self.client.get_json(
            f"/internal/households/{household_id}/eligibility", params={"on": on.isoformat()}
        )
        if data is None:
            raise ServiceUnavailable("registry 无资格接口 / the registry has no eligibility API", service="registry")
        return eligibility_of(data)

    async def eligibilities(self, household_ids: Sequence[str], on: date) -> list[Eligibility]:
        """Many households, each on the roster in force on `on`: batches of 1000, a few batches in flight."""
        batches = [household_ids[i:i + ELIGIBILITY_BATCH] for i in range(0, len(household_ids), ELIGIBILITY_BATCH)]
        gate = asyncio.Semaphore(ELIGIBILITY_CONCURRENCY)
        day = on.isoformat()

        async def one(batch: Sequence[str]) -> list[Eligibility]:
            items = [{"household_id": h, "on": day} for h in batch]
            async with gate:
                response = await self.client.request("POST", "/internal/households/eligibility", json={"items": items})
            if response.status_code != 200:
                raise ServiceUnavailable(
                    f"registry 服务出错 / the registry answered {response.status_code}", service="registry"
                )
            return [eligibility_of(item) for item in response.json()["items"]]

        return [e for answers in await asyncio.gather(*(one(b) for b in batches)) for e in answers]

"""A county with a pool, registered households and a project manager: for spending, reports and detectors."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from services.kernel.types import uscc_check_char
from tests.conftest import Api, MakePrincipal
from tests.funds.world import World, make_world
from tests.projects.factory import import_households, new_county, project_in


def credit_code(kind: str = "91") -> str:
    first17 = f"{kind}430523" + uuid.uuid4().hex[:9].upper().replace("I", "1").replace("O", "0")
    first17 = "".join(c if c in "0123456789ABCDEFGHJKLMNPQRTUWXY" else "1" for c in first17)
    return first17 + uscc_check_char(first17)


@dataclass
class Site:
    world: World
    county: str
    pm: Api
    households: list[dict[str, str]]  # poor, exited, not_poor

    def arrangement(self, project_id: str, amount: int, **extra: Any) -> dict[str, Any]:
        return {"county_code": self.county, "project_id": project_id, "amount_fen": amount, **extra}

    def payment(self, project_id: str, amount: int, household: dict[str, str] | None = None,
                **extra: Any) -> dict[str, Any]:
        """A payment to a household, as wages (以工代赈) unless `basis` says otherwise (F12)."""
        h = household or self.households[0]
        return {"project_id": project_id, "amount_fen": amount, "voucher_no": f"凭证-{uuid.uuid4().hex[:10]}",
                "payee": {"kind": "household", "id": h["household_id"], "name": h["head_name"],
                          "account_no": h["card_account"]}, "basis": {"kind": "wages"}, **extra}

    async def project(self, status: str = "in_progress", budget: int = 1_000_000) -> str:
        return await project_in(self.pm, self.county, [self.households[0]["household_id"]], status,
                                budget_fen=budget)


@pytest.fixture
async def site(admin: Api, make_principal: MakePrincipal) -> Site:
    return await make_site(admin, make_principal)


async def make_site(admin: Api, make_principal: MakePrincipal) -> Site:
    """A new pilot county with money in its pool, three households (poor, exited, not poor), a project manager."""
    county = new_county()
    world = await make_world(admin, make_principal, pilot=county)
    households = await import_households(admin, county, ["poor", "exited", "not_poor"])
    pm = await make_principal("project_manager", county)
    assert (await world.appropriate(10_000_000)).status_code == 201
    assert (await world.allocate(5_000_000, to=county)).status_code == 201
    return Site(world, county, pm, households)



"""Fixtures of the projects tests: a county with registered households and its project manager."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.conftest import Api, MakePrincipal
from tests.projects.factory import import_households, new_county


@dataclass
class County:
    code: str
    pm: Api
    poor: list[str]  # households registered as poor, exited, returned
    not_poor: str
    rows: list[dict[str, str]]


@pytest.fixture
async def county(admin: Api, make_principal: MakePrincipal) -> County:
    code = new_county()
    rows = await import_households(admin, code, ["poor", "exited", "returned", "not_poor"])
    pm = await make_principal("project_manager", code)
    return County(code, pm, [r["household_id"] for r in rows[:3]], rows[3]["household_id"], rows)

"""Fixtures of the funds tests: `world` (a province, a city, three counties, own fund sources), `site` (a pilot
county with pooled money, registered households and a project manager) and `engine` (the funds service's own, for
the detectors run in process: tests/funds/incremental.py)."""

from __future__ import annotations

import pytest

from tests.conftest import Api, MakePrincipal
from tests.funds.incremental import engine  # noqa: F401  (re-exported fixture)
from tests.funds.site import site  # noqa: F401  (re-exported fixture)
from tests.funds.world import World, make_world


@pytest.fixture
async def world(admin: Api, make_principal: MakePrincipal) -> World:
    return await make_world(admin, make_principal)

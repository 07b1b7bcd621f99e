"""Fixtures of the funds tests."""

from __future__ import annotations

import pytest

from tests.conftest import Api, MakePrincipal
from tests.funds.world import World, make_world


@pytest.fixture
async def world(admin: Api, make_principal: MakePrincipal) -> World:
    return await make_world(admin, make_principal)

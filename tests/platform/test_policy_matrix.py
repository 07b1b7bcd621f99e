"""The role × route matrix: every route of the policy, called with every role. An allowed role is never refused
with FORBIDDEN by the gateway; a refused role always is (and the service is never reached)."""

import re

import pytest

from gateway.policy import ROUTES
from services.kernel.identity import ROLES
from tests.conftest import Api, MakePrincipal


def _concrete(template: str) -> str:
    return re.sub(r"\{\w+\}", "x0000000000", template)


@pytest.fixture(scope="module")
async def callers(make_principal: MakePrincipal) -> dict[str, Api]:
    return {role: await make_principal(role, "000000") for role in ROLES}


@pytest.mark.parametrize("route", [r for r in ROUTES if not r.public], ids=lambda r: f"{r.method} {r.template}")
async def test_role_matrix(route, callers: dict[str, Api]) -> None:
    for role, api in callers.items():
        response = await api.request(route.method, _concrete(route.template), json={})
        assert response.status_code != 500, (role, response.text)
        body = response.json() if "json" in response.headers.get("content-type", "") else None
        code = body.get("code") if isinstance(body, dict) else None
        if role in route.roles:
            assert not (response.status_code == 403 and code == "FORBIDDEN"), (role, response.text)
            assert response.status_code != 401
        else:
            assert response.status_code == 403 and code == "FORBIDDEN", (role, response.status_code, response.text)


async def test_public_routes_need_no_key(anonymous: Api) -> None:
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"):
        response = await anonymous.get(path)
        assert response.status_code == 200, path

"""The registry eligibility P3 relies on: batches of at most 1000, and a failing registry is a 503 (nothing changes);
the gateway's organisations O13 relies on, likewise."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.kernel.errors import ServiceUnavailable
from services.kernel.http import ServiceClient
from services.projects.clients import Gateway, household_ineligibility
from tests.fake_registry import FakeRegistry


async def test_eligibility_in_batches() -> None:
    registry = FakeRegistry()
    ids = [f"h{i}" for i in range(2500)] + ["x1"]
    reasons = await household_ineligibility(registry, ids)
    assert [len(b) for b in registry.batches] == [1000, 1000, 501]
    assert all(set(item) == {"household_id"} for batch in registry.batches for item in batch)  # P3: today's roster
    assert len(reasons) == 2501 and reasons["x1"] == ["not_registered"] and reasons["h0"] == []
    await registry.aclose()


@pytest.mark.parametrize("registry", [FakeRegistry(500), FakeRegistry(down=True)])
async def test_registry_failing_is_503(registry: FakeRegistry) -> None:
    with pytest.raises(ServiceUnavailable) as caught:
        await household_ineligibility(registry, ["h1"])
    assert caught.value.status == 503


class FakeGateway(ServiceClient):
    """Answers GET /internal/organisations/{id}: the organisation `org_known` of county 430523; any other 404; or
    every call `status` (e.g. 500)."""

    def __init__(self, status: int = 200) -> None:
        super().__init__("gateway", "http://127.0.0.1:9", caller="test")
        self.status = status
        self.paths: list[str] = []

    async def request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None
    ) -> httpx.Response:
        self.paths.append(path)
        if self.status != 200:
            return httpx.Response(self.status, json={})
        if path != "/internal/organisations/org_known":
            return httpx.Response(404, json={"code": "NOT_FOUND"})
        return httpx.Response(200, json={"id": "org_known", "kind": "project_unit", "region_code": "430523"})


async def test_the_owner_unit_is_asked_of_the_gateway_and_a_failing_gateway_is_503() -> None:
    """O13: the organisation a project names as its owner unit, as the gateway knows it; None for one it does not
    know (a 422 for the caller, rules.check_owner_org); the gateway failing is a 503, so nothing is recorded."""
    known = FakeGateway()
    assert (await Gateway(known).organisation("org_known") or {})["region_code"] == "430523"
    assert await Gateway(known).organisation("org_other/..") is None
    assert known.paths[-1] == "/internal/organisations/org_other%2F.."  # the id is one path segment
    failing = FakeGateway(500)
    with pytest.raises(ServiceUnavailable) as caught:
        await Gateway(failing).organisation("org_known")
    assert caught.value.status == 503
    await known.aclose()
    await failing.aclose()

"""The registry eligibility P3 relies on: batches of at most 1000, and a failing registry is a 503 (nothing changes)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.kernel.errors import ServiceUnavailable
from services.kernel.http import ServiceClient
from services.projects.clients import household_ineligibility


class FakeRegistry(ServiceClient):
    def __init__(self, status: int = 200, *, down: bool = False) -> None:
        super().__init__("registry", "http://127.0.0.1:9", caller="projects")
        self.status, self.down, self.batches = status, down, []  # type: list[list[str]]

    async def request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None
    ) -> httpx.Response:
        assert (method, path) == ("POST", "/internal/households/eligibility")
        if self.down:
            raise ServiceUnavailable("registry down", service="registry")
        ids = [item["household_id"] for item in json["items"]]
        assert all(set(item) == {"household_id"} for item in json["items"])  # the current roster: no date
        self.batches.append(ids)
        body = {"items": [{"household_id": i, "reasons": ["not_registered"] if i.startswith("x") else []}
                          for i in ids]}
        return httpx.Response(self.status, json=body)


async def test_eligibility_in_batches() -> None:
    registry = FakeRegistry()
    ids = [f"h{i}" for i in range(2500)] + ["x1"]
    reasons = await household_ineligibility(registry, ids)
    assert [len(b) for b in registry.batches] == [1000, 1000, 501]
    assert len(reasons) == 2501 and reasons["x1"] == ["not_registered"] and reasons["h0"] == []
    await registry.aclose()


@pytest.mark.parametrize("registry", [FakeRegistry(500), FakeRegistry(down=True)])
async def test_registry_failing_is_503(registry: FakeRegistry) -> None:
    with pytest.raises(ServiceUnavailable) as caught:
        await household_ineligibility(registry, ["h1"])
    assert caught.value.status == 503

"""The registry lookup P3 relies on: batches of at most 1000, and a failing registry is a 503 (nothing changes)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.kernel.errors import ServiceUnavailable
from services.kernel.http import ServiceClient
from services.projects.clients import household_statuses


class FakeRegistry(ServiceClient):
    def __init__(self, status: int = 200, *, down: bool = False) -> None:
        super().__init__("registry", "http://127.0.0.1:9", caller="projects")
        self.status, self.down, self.batches = status, down, []  # type: list[list[str]]

    async def request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None
    ) -> httpx.Response:
        assert (method, path) == ("POST", "/internal/households/lookup")
        if self.down:
            raise ServiceUnavailable("registry down", service="registry")
        ids = json["household_ids"]
        self.batches.append(ids)
        known = [i for i in ids if not i.startswith("x")]
        body = {"items": [{"household_id": i, "status": "poor"} for i in known],
                "missing": [i for i in ids if i.startswith("x")]}
        return httpx.Response(self.status, json=body)


async def test_lookup_in_batches() -> None:
    registry = FakeRegistry()
    ids = [f"h{i}" for i in range(2500)] + ["x1"]
    statuses = await household_statuses(registry, ids)
    assert [len(b) for b in registry.batches] == [1000, 1000, 501]
    assert len(statuses) == 2500 and "x1" not in statuses
    await registry.aclose()


@pytest.mark.parametrize("registry", [FakeRegistry(500), FakeRegistry(down=True)])
async def test_registry_failing_is_503(registry: FakeRegistry) -> None:
    with pytest.raises(ServiceUnavailable) as caught:
        await household_statuses(registry, ["h1"])
    assert caught.value.status == 503

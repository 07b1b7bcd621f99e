"""The registry eligibility F10 relies on: asked in batches of at most 1000, in order; a failing registry is a 503
(the INELIGIBLE_PAYEE scan then skips, raising nothing)."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from services.funds.clients import household_eligibility
from services.kernel.errors import ServiceUnavailable
from services.kernel.http import ServiceClient


class FakeRegistry(ServiceClient):
    def __init__(self, status: int = 200, *, down: bool = False) -> None:
        super().__init__("registry", "http://127.0.0.1:9", caller="funds")
        self.status, self.down = status, down
        self.batches: list[list[dict[str, Any]]] = []

    async def request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None
    ) -> httpx.Response:
        assert (method, path) == ("POST", "/internal/households/eligibility")
        if self.down:
            raise ServiceUnavailable("registry down", service="registry")
        self.batches.append(json["items"])
        items = [{**item, "eligible": True, "reasons": [], "status": "poor", "village_cadre": False}
                 for item in json["items"]]
        return httpx.Response(self.status, json={"items": items})


async def test_eligibility_in_batches_in_order() -> None:
    registry = FakeRegistry()
    queries = [(f"h{i}", date(2018, 1, 1 + i % 28)) for i in range(2100)]
    answers = await household_eligibility({"registry": registry}, queries)
    assert [len(b) for b in registry.batches] == [1000, 1000, 100]
    assert [(a["household_id"], a["on"]) for a in answers] == [(h, on.isoformat()) for h, on in queries]
    assert await household_eligibility({"registry": registry}, []) == []
    await registry.aclose()


@pytest.mark.parametrize("registry", [FakeRegistry(500), FakeRegistry(down=True)])
async def test_registry_failing_is_503(registry: FakeRegistry) -> None:
    with pytest.raises(ServiceUnavailable) as caught:
        await household_eligibility({"registry": registry}, [("h1", date(2018, 1, 1))])
    assert caught.value.status == 503
    await registry.aclose()

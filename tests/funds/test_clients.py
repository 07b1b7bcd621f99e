"""The registry eligibility F10 relies on: asked in batches of at most 1000, in order; a failing registry is a 503
(the INELIGIBLE_PAYEE scan then skips, raising nothing)."""

from __future__ import annotations

from datetime import date

import pytest

from services.funds.clients import Registry
from services.kernel.errors import ServiceUnavailable
from tests.fake_registry import FakeRegistry


async def test_eligibility_in_batches_in_order() -> None:
    registry = FakeRegistry()
    queries = [(f"h{i}", date(2018, 1, 1 + i % 28)) for i in range(2100)]
    answers = await Registry(registry).household_eligibility(queries)
    assert [len(b) for b in registry.batches] == [1000, 1000, 100]
    assert [(a["household_id"], a["on"]) for a in answers] == [(h, on.isoformat()) for h, on in queries]
    assert await Registry(registry).household_eligibility([]) == []
    await registry.aclose()


@pytest.mark.parametrize("registry", [FakeRegistry(500), FakeRegistry(down=True)])
async def test_registry_failing_is_503(registry: FakeRegistry) -> None:
    with pytest.raises(ServiceUnavailable) as caught:
        await Registry(registry).household_eligibility([("h1", date(2018, 1, 1))])
    assert caught.value.status == 503
    await registry.aclose()

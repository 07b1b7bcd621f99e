"""The registry eligibility P3 relies on: batches of at most 1000, and a failing registry is a 503 (nothing changes)."""

from __future__ import annotations

import pytest

from services.kernel.errors import ServiceUnavailable
from services.projects.clients import household_ineligibility
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

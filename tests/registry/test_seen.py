"""The importer's SeenFilter: never "not seen" for an id it recorded (a false "maybe" only costs a query)."""

from __future__ import annotations

from services.registry.seen import SeenFilter


def test_every_recorded_id_is_a_maybe_and_new_ids_almost_never_are() -> None:
    seen = SeenFilter()
    ids = [f"HH{i:09d}" for i in range(20_000)]
    assert not any(seen.add(household_id) for household_id in ids)  # hardly a false maybe among 20,000 new ids
    assert all(seen.add(household_id) for household_id in ids)
    assert sum(seen.add(f"HJ{i:09d}") for i in range(20_000)) <= 2

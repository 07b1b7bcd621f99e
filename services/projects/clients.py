"""Typed calls to the registry's internal API (brief: POST /internal/households/eligibility)."""

from __future__ import annotations

from collections.abc import Sequence

from services.kernel.http import ServiceClient


async def household_ineligibility(registry: ServiceClient, household_ids: Sequence[str]) -> dict[str, list[str]]:
    """The registry's reasons why each household may not benefit, on its current roster (empty when it may): the
    registry alone defines eligibility (L1, P3, F10); a household not on the roster is `not_registered`.

    The registry being down or failing is a 503 (ServiceUnavailable), so the caller's transaction rolls back.
    """
    answers = await registry.post_items(
        "/internal/households/eligibility", [{"household_id": h} for h in household_ids]
    )
    return {str(a["household_id"]): [str(reason) for reason in a["reasons"]] for a in answers}

"""The loans client of the registry's list of ineligible households: it follows the pages to the end, and a page
not answered is a 503 (the scan fails rather than raising nothing)."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

import httpx
import pytest

from services.kernel.errors import ServiceUnavailable
from services.loans.clients import Registry


def judged(household_id: str) -> dict[str, Any]:
    return {"household_id": household_id, "on": "2026-01-01", "eligible": False, "reasons": ["not_poor"],
            "status": "not_poor", "village_cadre": False}


class Pages:
    """Answers POST /internal/households/ineligible with the pages given, in turn; records each call's `after`."""

    name = "registry"

    def __init__(self, *pages: tuple[int, dict[str, Any]]) -> None:
        self.pages = list(pages)
        self.asked: list[str] = []

    async def request(self, method: str, path: str, *, params: Any = None, json: Any = None) -> httpx.Response:
        assert (method, path, json["on"]) == ("POST", "/internal/households/ineligible", "2026-01-01")
        self.asked.append(json["after"])
        status, body = self.pages.pop(0)
        return httpx.Response(status, json=body)


async def test_every_page_is_read() -> None:
    pages = Pages((200, {"items": [judged("h1"), judged("h2")], "next_after": "h2"}),
                  (200, {"items": [judged("h3")], "next_after": None}))
    found = await Registry(cast(Any, pages)).ineligible_on(date(2026, 1, 1))
    assert [e.household_id for e in found] == ["h1", "h2", "h3"] and found[0].reasons == ("not_poor",)
    assert pages.asked == ["", "h2"]


async def test_a_page_not_answered_is_a_503() -> None:
    pages = Pages((200, {"items": [judged("h1")], "next_after": "h1"}), (500, {"detail": "down"}))
    with pytest.raises(ServiceUnavailable):
        await Registry(cast(Any, pages)).ineligible_on(date(2026, 1, 1))

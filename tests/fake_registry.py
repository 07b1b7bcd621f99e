"""The registry's eligibility endpoint in-process, for the tests of its callers' clients (funds F10, projects P3)."""

from __future__ import annotations

from typing import Any

import httpx

from services.kernel.errors import ServiceUnavailable
from services.kernel.http import ServiceClient


class FakeRegistry(ServiceClient):
    """Answers POST /internal/households/eligibility: every household eligible and poor, but those whose id starts
    with "x" (not on the roster); or every call `status` (e.g. 500), or the registry `down`."""

    def __init__(self, status: int = 200, *, down: bool = False) -> None:
        super().__init__("registry", "http://127.0.0.1:9", caller="test")
        self.status, self.down = status, down
        self.batches: list[list[dict[str, Any]]] = []

    async def request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None
    ) -> httpx.Response:
        assert (method, path) == ("POST", "/internal/households/eligibility")
        if self.down:
            raise ServiceUnavailable("registry down", service="registry")
        self.batches.append(json["items"])
        items = []
        for item in json["items"]:
            missing = item["household_id"].startswith("x")
            items.append({**item, "eligible": not missing, "reasons": ["not_registered"] if missing else [],
                          "status": None if missing else "poor", "village_cadre": None if missing else False})
        return httpx.Response(self.status, json={"items": items})

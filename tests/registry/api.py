"""Calls of the registry API through the gateway."""

from __future__ import annotations

import httpx

from tests.conftest import Api

IMPORT = "/registry/households/import"


async def import_csv(api: Api, body: bytes, content_type: str = "text/csv; charset=utf-8") -> httpx.Response:
    return await api.post(IMPORT, content=body, headers={"content-type": content_type})

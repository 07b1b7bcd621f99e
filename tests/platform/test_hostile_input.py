"""Hostile input found by probing the S rules from outside: a body nested a thousand deep and forged list cursors
were 500s (one of each with no key at all). Each is now a 422 naming what was wrong, and a fair one still works."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from services.kernel.jsonbody import MAX_DEPTH
from tests.conftest import Api, MakePrincipal


def nested(depth: int) -> bytes:
    return ('{"text": ' + "[" * depth + "]" * depth + "}").encode()


def cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 900, 5000])
async def test_a_body_nested_too_deep_is_422_with_or_without_a_key(
    depth: int, anonymous: Api, admin: Api
) -> None:
    headers = {"content-type": "application/json"}
    public = await anonymous.client.post(
        "/public/announcements/prj_00000000000000000000000000/objections", content=nested(depth), headers=headers
    )
    own = await admin.client.post(
        "/admin/principals", content=nested(depth), headers=admin.headers(headers)
    )
    for response in (public, own):
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "VALIDATION_ERROR"
        assert response.json()["field"].startswith(("text", "body"))


async def test_a_body_nested_within_the_limit_is_read(admin: Api) -> None:
    """The depth limit refuses depth only: a shallow wrong body is refused for its content, not its shape."""
    response = await admin.client.post(
        "/admin/principals", content=nested(2), headers=admin.headers({"content-type": "application/json"})
    )
    assert response.status_code == 422
    assert "嵌套" not in response.json()["detail"]


FORGED = [[True], [None], [{"a": 1}], ["\u0000"], [1.5], [[1]]]


@pytest.mark.parametrize("key", FORGED, ids=["true", "null", "object", "nul", "float", "list"])
async def test_a_forged_cursor_is_422_on_every_list(
    key: list[Any], anonymous: Api, make_principal: MakePrincipal
) -> None:
    inspector = await make_principal("inspector", "430523")
    lender = await make_principal("lender", "430523")
    width = {"/public/announcements": 2, "/audit": 1, "/loans": 2, "/registry/households": 1, "/projects": 2}
    callers = {"/public/announcements": anonymous, "/audit": inspector, "/loans": lender}
    callers |= {"/registry/households": inspector, "/projects": inspector}
    for path, caller in callers.items():
        forged = key * width[path]
        response = await caller.get(path, params={"cursor": cursor(forged)})
        assert response.status_code == 422, (path, response.text)
        assert (response.json()["code"], response.json()["field"]) == ("VALIDATION_ERROR", "cursor")


async def test_a_cursor_the_api_gave_out_still_pages(make_principal: MakePrincipal) -> None:
    inspector = await make_principal("inspector", "000000")
    first = (await inspector.get("/audit", params={"limit": 1})).json()
    assert first["next_cursor"] is not None
    second = await inspector.get("/audit", params={"limit": 1, "cursor": first["next_cursor"]})
    assert second.status_code == 200
    assert second.json()["items"][0]["seq"] < first["items"][0]["seq"]

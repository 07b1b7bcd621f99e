"""The oversight tests' site: a county with its finance bureau, discipline commissions at three places, inspectors
and members of the organisations, and helpers to bring a case to a state."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import Api, MakePrincipal
from tests.platform.test_alerts import _store_alert

COUNTY, OTHER_COUNTY, CITY = "451021", "451022", "451000"
PDF = "application/pdf"


def pdf(label: str = "整改报告") -> bytes:
    """A small PDF of its own bytes (documents are kept by their hash: each call's is new)."""
    return b"%PDF-1.7\n" + f"{label} {uuid.uuid4().hex}".encode() + b"\n%%EOF\n"


async def upload(api: Api, data: bytes, *, name: str = "整改报告.pdf", media_type: str = PDF) -> httpx.Response:
    """POST /oversight/evidence through the gateway: the raw bytes, the media type as Content-Type."""
    return await api.post("/oversight/evidence", params={"name": name}, content=data,
                          headers={"content-type": media_type})


async def document(api: Api, name: str = "整改报告.pdf") -> dict[str, Any]:
    """A new PDF uploaded by `api`: the reference a move cites ({sha256, name, media_type, size})."""
    stored = ok(await upload(api, pdf(name), name=name), 201)
    assert stored.pop("created") is True
    return stored


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def refused(response: httpx.Response, status: int, code: str, *, rule: str | None = None,
            field: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    if rule is not None:
        assert body.get("rule") == rule, body
    if field is not None:
        assert body.get("field") == field, body


async def organisation(admin: Api, kind: str, region_code: str) -> str:
    return ok(await admin.post("/admin/organisations", json={
        "name": f"{kind}-{region_code}-{uuid.uuid4().hex[:6]}", "kind": kind, "region_code": region_code}), 201)["id"]


async def member(admin: Api, http: httpx.AsyncClient, role: str, region_code: str, organisation_id: str) -> Api:
    body = ok(await admin.post("/admin/principals", json={
        "name": f"{role}-{uuid.uuid4().hex[:6]}", "role": role, "region_code": region_code,
        "organisation_id": organisation_id}), 201)
    return Api(http, body["api_key"], body["id"], role, region_code)


class Site:
    def __init__(self, admin: Api, http: httpx.AsyncClient, db: asyncpg.Pool, make_principal: MakePrincipal) -> None:
        self.admin, self.http, self.db, self.make_principal = admin, http, db, make_principal

    async def setup(self) -> Site:
        admin = self.admin
        self.bureau = await organisation(admin, "finance_bureau", COUNTY)
        self.other_bureau = await organisation(admin, "finance_bureau", OTHER_COUNTY)
        self.county_commission = await organisation(admin, "discipline_commission", COUNTY)
        self.city_commission = await organisation(admin, "discipline_commission", CITY)
        self.other_commission = await organisation(admin, "discipline_commission", OTHER_COUNTY)
        self.inspector = await self.make_principal("inspector", COUNTY)
        self.city_inspector = await self.make_principal("inspector", CITY)
        self.other_inspector = await self.make_principal("inspector", OTHER_COUNTY)
        self.cashier = await member(admin, self.http, "finance", COUNTY, self.bureau)
        self.outsider = await self.make_principal("finance", COUNTY)  # same county, its own organisation
        self.other_cashier = await member(admin, self.http, "finance", OTHER_COUNTY, self.other_bureau)
        return self

    async def alert(self, service: str = "funds", region: str = COUNTY, severity: str = "high") -> str:
        return await _store_alert(self.db, service, region, type_="INELIGIBLE_PAYEE", severity=severity)

    async def open(self, *alerts: tuple[str, str], money: int = 250_000, **extra: Any) -> dict[str, Any]:
        body = {"region_code": COUNTY, "title": "向非贫困户拨付补助", "money_involved_fen": money,
                "alerts": [{"service": s, "alert_id": a} for s, a in alerts], **extra}
        return ok(await self.inspector.post("/oversight/cases", json=body), 201)

    async def assigned(self, **extra: Any) -> dict[str, Any]:
        case = await self.open(("funds", await self.alert()))
        return ok(await self.inspector.post(f"/oversight/cases/{case['id']}/assign",
                                            json={"organisation_id": self.bureau, **extra}))

    async def submitted(self) -> dict[str, Any]:
        case = await self.assigned()
        doc = await document(self.cashier)
        return ok(await self.cashier.post(f"/oversight/cases/{case['id']}/rectifications",
                                          json={"note": "已追回", "documents": [doc]}))


@pytest.fixture(scope="session")
async def site(admin: Api, http: httpx.AsyncClient, db: asyncpg.Pool, make_principal: MakePrincipal) -> Site:
    return await Site(admin, http, db, make_principal).setup()



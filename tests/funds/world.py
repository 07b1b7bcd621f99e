"""Test data for the funds tests: each test gets its own fund sources (so its ledger accounts are its own) and its
own city and counties; principals at every level."""

from __future__ import annotations

import itertools
import random
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from tests.conftest import Api, MakePrincipal

_cities = itertools.count(random.randrange(0, 500))


def new_source_code() -> str:
    return "T" + uuid.uuid4().hex[:8].upper()


def new_city() -> str:
    """A city code (7x–9x provinces) no other funds test of this session uses."""
    n = next(_cities) % 2900
    return f"{70 + n // 100}{n % 100 + 1:02d}00" if n % 100 + 1 < 100 else f"{70 + n // 100}0100"


def doc() -> str:
    return f"湘财农指〔2018〕{uuid.uuid4().hex[:10]}号"


@dataclass
class World:
    admin: Api
    province: str
    city: str
    pilot: str  # a poor county in the integration pilot
    poor: str  # a poor county outside the pilot
    rich: str  # not a poor county
    source: str  # integrable
    plain: str  # not integrable
    central: Api
    fin_province: Api
    fin_city: Api
    fin_pilot: Api
    inspector: Api

    async def appropriate(self, amount: int, *, region: str | None = None, source: str | None = None,
                          on: str = "2018-01-10", year: int = 2018) -> httpx.Response:
        region = region or self.province
        api = {self.province: self.fin_province, self.city: self.fin_city}.get(region, self.central)
        return await api.post("/funds/appropriations", json={
            "fund_source": source or self.source, "fiscal_year": year, "region_code": region, "amount_fen": amount,
            "doc_no": doc(), "appropriated_on": on})

    def allocation(self, amount: int, *, to: str | None = None, frm: str | None = None, source: str | None = None,
                   on: str = "2018-02-01", year: int = 2018, **extra: Any) -> dict[str, Any]:
        return {"fund_source": source or self.source, "fiscal_year": year, "from_region": frm or self.province,
                "to_region": to or self.pilot, "amount_fen": amount, "doc_no": doc(), "issued_on": on, **extra}

    async def allocate(self, amount: int, api: Api | None = None, **kw: Any) -> httpx.Response:
        return await (api or self.fin_province).post("/funds/allocations", json=self.allocation(amount, **kw))

    async def balances(self, region: str) -> dict[tuple[str, str, str], int]:
        response = await self.inspector.get("/funds/balances", params={"region": region})
        assert response.status_code == 200, response.text
        return {(b["account"], b["fund_source"], b["ref"]): b["balance_fen"] for b in response.json()["items"]
                if b["fund_source"] in (self.source, self.plain) and b["region_code"] == region}


async def put_county(admin: Api, code: str, *, poor: bool, pilot: bool) -> None:
    response = await admin.put(f"/funds/counties/{code}", json={"name": f"县{code}", "poor": poor,
                                                                "integration_pilot": pilot})
    assert response.status_code == 200, response.text


async def put_source(admin: Api, code: str, *, integrable: bool) -> None:
    response = await admin.put(f"/funds/sources/{code}", json={"name": f"资金{code}", "level": "central",
                                                               "integrable": integrable})
    assert response.status_code == 200, response.text


async def make_world(admin: Api, make_principal: MakePrincipal, *, pilot: str | None = None) -> World:
    """A province, a city, and three counties in it: `pilot` (poor, integration pilot), poor, rich."""
    city = pilot[:4] + "00" if pilot else new_city()
    province = city[:2] + "0000"
    pilot = pilot or city[:4] + "01"
    poor, rich = [city[:4] + c for c in ("96", "97", "98") if city[:4] + c != pilot][:2]
    source, plain = new_source_code(), new_source_code()
    await put_source(admin, source, integrable=True)
    await put_source(admin, plain, integrable=False)
    await put_county(admin, pilot, poor=True, pilot=True)
    await put_county(admin, poor, poor=True, pilot=False)
    await put_county(admin, rich, poor=False, pilot=False)
    return World(
        admin, province, city, pilot, poor, rich, source, plain,
        central=await make_principal("finance", "000000"),
        fin_province=await make_principal("finance", province),
        fin_city=await make_principal("finance", city),
        fin_pilot=await make_principal("finance", pilot),
        inspector=await make_principal("inspector", "000000"),
    )

"""Test data for the risk-compensation fund (issue #18): a county with money in the funds ledger (appropriated to
its province, allocated to it), its finance bureau (two people), and the fund set up with the tests' lender."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from services.loans.risk_rules import fund_id_of
from tests.conftest import Api, MakePrincipal
from tests.funds.world import doc, new_source_code, put_county, put_source
from tests.loans.helpers import loan_body

BANK = "县农商银行"  # loan_body's lender_name


@dataclass
class County:
    code: str
    source: str
    finance: Api  # the county's finance bureau: records and decides
    second: Api  # another person of it (L9's two people)

    def fund_body(self, deposit_fen: int, **overrides: Any) -> dict[str, Any]:
        body = {"county_code": self.code, "bank_name": BANK, "fund_source": self.source, "deposit_fen": deposit_fen,
                "leverage": 5, "fund_share_bp": 7000, "claim_after_days": 90, "depleted_share_bp": 5000,
                "agreement_no": doc(), "established_on": "2018-02-15"}
        body.update(overrides)
        return body

    async def set_up_fund(self, deposit_fen: int, **overrides: Any) -> dict[str, Any]:
        response = await self.finance.post("/loans/risk-funds", json=self.fund_body(deposit_fen, **overrides))
        assert response.status_code == 201, response.text
        fund: dict[str, Any] = response.json()
        return fund

    async def account(self, inspector: Api, kind: str, ref: str = "") -> int:
        response = await inspector.get("/funds/balances", params={"region": self.code, "limit": 200})
        assert response.status_code == 200, response.text
        return sum(b["balance_fen"] for b in response.json()["items"]
                   if b["fund_source"] == self.source and b["account"] == kind and b["ref"] == ref)


async def funded_county(admin: Api, make_principal: MakePrincipal, county: str, money_fen: int) -> County:
    """`county` registered in funds with `money_fen` of a new fund source in its fund account."""
    province = county[:2] + "0000"
    source = new_source_code()
    await put_source(admin, source, integrable=False)
    await put_county(admin, county, poor=True, pilot=False)
    fin_province = await make_principal("finance", province)
    response = await fin_province.post("/funds/appropriations", json={
        "fund_source": source, "fiscal_year": 2018, "region_code": province, "amount_fen": money_fen,
        "doc_no": doc(), "appropriated_on": "2018-01-10"})
    assert response.status_code == 201, response.text
    response = await fin_province.post("/funds/allocations", json={
        "fund_source": source, "fiscal_year": 2018, "from_region": province, "to_region": county,
        "amount_fen": money_fen, "doc_no": doc(), "issued_on": "2018-02-01"})
    assert response.status_code == 201, response.text
    return County(county, source, await make_principal("finance", county), await make_principal("finance", county))


def fund_id(county: str) -> str:
    return fund_id_of(county, BANK)


async def lend(lender: Api, household: Any, **overrides: Any) -> httpx.Response:
    return await lender.post("/loans", json=loan_body(household.household_id, household.head_id_number, **overrides))

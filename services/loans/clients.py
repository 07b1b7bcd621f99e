"""Typed calls to the registry's internal API (helper brief: "Internal API contracts between services")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any

import httpx
from fastapi import Depends

from services.kernel.alerts import DetectorContext
from services.kernel.http import ServiceClient, client_in, service_dependency
from services.loans import problems
from services.loans.rules import Eligibility, Household

ELIGIBILITY_CONCURRENCY = 8  # batches in flight when a scan asks about many borrowing households
INELIGIBLE_PAGE = 20_000  # households a call when a scan asks for those ineligible on a day


def household_of(data: dict[str, Any]) -> Household:
    return Household(
        household_id=str(data["household_id"]),
        head_id_number=str(data["head_id_number"]),
        head_name=str(data.get("head_name", "")),
        county_code=str(data["county_code"]),
        village_code=str(data.get("village_code", "")),
        status=str(data["status"]),
        members=int(data.get("members", 0)),
        village_cadre=bool(data.get("village_cadre", False)),
        card_account=str(data.get("card_account", "")),
    )


def eligibility_of(data: dict[str, Any]) -> Eligibility:
    return Eligibility(
        household_id=str(data["household_id"]),
        reasons=tuple(str(reason) for reason in data["reasons"]),
        status=data.get("status"),
        village_cadre=data.get("village_cadre"),
    )


class Registry:
    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    async def household(self, household_id: str) -> Household | None:
        data = await self.client.get_json(f"/internal/households/{household_id}")
        return None if data is None else household_of(data)

    async def eligibility(self, household_id: str, on: date) -> Eligibility:
        """L1 on a date, as the registry judges it (a household not on the roster then is `not_registered`)."""
        data = await self.client.get_json(
            f"/internal/households/{household_id}/eligibility", params={"on": on.isoformat()}
        )
        if data is None:
            raise problems.registry_without_eligibility()
        return eligibility_of(data)

    async def eligibilities(self, household_ids: Sequence[str], on: date) -> list[Eligibility]:
        """Many households, each on the roster in force on `on` (in batches, a few in flight; 503 if it fails)."""
        day = on.isoformat()
        answers = await self.client.post_items(
            "/internal/households/eligibility", [{"household_id": h, "on": day} for h in household_ids],
            concurrency=ELIGIBILITY_CONCURRENCY,
        )
        return [eligibility_of(answer) for answer in answers]

    async def ineligible_on(self, on: date) -> list[Eligibility]:
        """Every household on the roster on `on` that is not eligible then (not_poor, village cadre), as the registry
        judges it: a page of INELIGIBLE_PAGE at a time (503 if a call fails). A scan of every borrowing household
        asks this instead of each household's eligibility: a few calls instead of one per thousand borrowers."""
        found: list[Eligibility] = []
        after: str | None = ""
        while after is not None:
            response = await self.client.request(
                "POST", "/internal/households/ineligible",
                json={"on": on.isoformat(), "after": after, "limit": INELIGIBLE_PAGE},
            )
            if response.status_code != 200:
                raise problems.registry_failed(response.status_code, "/internal/households/ineligible")
            page = response.json()
            found += [eligibility_of(item) for item in page["items"]]
            after = page["next_after"]
        return found


def registry_for_scan(ctx: DetectorContext) -> Registry:
    """The registry client the app opened, for a detector run (which has the app's state, not a request)."""
    return Registry(client_in(ctx.state, "registry"))


RegistryDep = Annotated[Registry, Depends(service_dependency("registry", Registry))]


SETTLED_AS = {"CLAIM_VOIDED": "rejected", "CLAIM_ALREADY_PAID": "approved"}  # funds' codes → the decision there


class SettledOtherwise(Exception):
    """Funds settled the claim the other way first (issue #18): `decision` is `approved` (paid) or `rejected`
    (voided). The asking service answers it as its claim being decided so, and records nothing."""

    def __init__(self, decision: str) -> None:
        super().__init__(decision)
        self.decision = decision


def refusal(response: httpx.Response) -> Exception:
    """Funds' 409/422 to a claim's payment or voiding: SettledOtherwise when the claim is settled the other way,
    else the refusal as funds gave it."""
    answer: dict[str, Any] = response.json()
    if response.status_code == 409 and answer.get("code") in SETTLED_AS:
        return SettledOtherwise(SETTLED_AS[str(answer["code"])])
    return problems.funds_refused(response.status_code, answer)


class Funds:
    """The funds service's internal API, as the loans service asks it (issue #18): where the money of an approved
    subsidy claim moves (point 3), and the risk-compensation fund's money in the ledger (points 1, 2); a rejected
    claim's payment voided first (L9, L13: funds settles each claim once, paid or voided). A refusal
    (INSUFFICIENT_FUNDS…) is passed on as funds gave it, a claim settled the other way is SettledOtherwise; a failure
    is 503."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    async def pay_subsidy(
        self, *, claim_id: str, county_code: str, fund_source: str, paid_on: date, payee_kind: str,
        payees: Sequence[tuple[str, int]],
    ) -> str:
        """L13: the payment's id. Funds pays a claim once (asked again, it answers the payment made). Its refusal
        (an unregistered fund or county, INSUFFICIENT_FUNDS) is answered as funds gave it; a failure is a 503."""
        response = await self.client.request("POST", "/internal/subsidy-payments", json={
            "claim_id": claim_id, "county_code": county_code, "fund_source": fund_source,
            "paid_on": paid_on.isoformat(), "payee_kind": payee_kind,
            "payees": [{"id": payee, "amount_fen": fen} for payee, fen in payees],
        })
        if response.status_code == 200:
            return str(response.json()["id"])
        if response.status_code in (409, 422):
            raise refusal(response)
        raise problems.funds_failed(response.status_code)

    async def void_claim(self, *, county_code: str, kind: str, payment_key: str) -> None:
        """L9, L13, before a rejection is recorded: funds will never pay the claim under `payment_key` (asked again,
        the same answer); SettledOtherwise("approved") when its payment was made first."""
        response = await self.client.request("POST", "/internal/claim-voids", json={
            "county_code": county_code, "kind": kind, "payment_key": payment_key})
        if response.status_code in (409, 422):
            raise refusal(response)
        if response.status_code != 200:
            raise problems.funds_failed(response.status_code)

    async def move_risk_money(self, move: dict[str, Any]) -> dict[str, Any]:
        """POST /internal/risk-fund-moves: `move` is its body (id, kind, county_code, fund_id, fund_source,
        amount_fen, doc_no, occurred_on); answers the move with its `transfer_ids`."""
        response = await self.client.request("POST", "/internal/risk-fund-moves", json=move)
        if response.status_code in (409, 422):
            raise refusal(response)
        if response.status_code != 201:
            raise problems.funds_failed(response.status_code)
        answer: dict[str, Any] = response.json()
        return answer


FundsDep = Annotated[Funds, Depends(service_dependency("funds", Funds))]

"""Fixtures for the loans API tests: a fresh county per test, a lender of that county, households in the registry."""

from __future__ import annotations

import itertools
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

import pytest

from tests.conftest import Api, MakePrincipal
from tests.loans.helpers import household_id, id_number, loan_body

HEADER = "household_id,head_id_number,head_name,county_code,village_code,status,members,village_cadre,card_account"
_counties = itertools.count(random.randrange(100, 9000))


@dataclass
class Household:
    household_id: str
    head_id_number: str
    county_code: str
    status: str = "poor"
    village_cadre: bool = False

    def line(self) -> str:
        cadre = "1" if self.village_cadre else "0"
        return (f"{self.household_id},{self.head_id_number},王五,{self.county_code},{self.county_code}101001,"
                f"{self.status},4,{cadre},6217000000001")


Seed = Callable[..., Awaitable[Household]]


@pytest.fixture
def county() -> str:
    """A county no other loans test uses (province 44; a county code never ends in 00)."""
    return fresh_county()


def fresh_county() -> str:
    """The next county of province 44 that no loans test of this run has had."""
    while True:
        n = next(_counties) % 10_000  # six digits whatever the start
        if n % 100:
            return f"44{n:04d}"


@pytest.fixture
async def lender(make_principal: MakePrincipal, county: str) -> Api:
    return await make_principal("lender", county)


@pytest.fixture
async def inspector(make_principal: MakePrincipal, county: str) -> Api:
    return await make_principal("inspector", county)


EARLIEST_EFFECTIVE_ON = "2014-01-01"  # 建档立卡 began: the tests issue loans (2018…) to households on the roster


async def import_households(admin: Api, *households: Household, effective_on: str | None = EARLIEST_EFFECTIVE_ON
                            ) -> None:
    """Import the roster as it stood on `effective_on` (None: today). L1 is judged on the loan's issue date."""
    body = "\n".join([HEADER, *(h.line() for h in households)]) + "\n"
    response = await admin.post("/registry/households/import", content=body.encode(),
                                params={"effective_on": effective_on} if effective_on else None,
                                headers={"content-type": "text/csv; charset=utf-8"})
    assert response.status_code == 200, response.text
    assert response.json()["rejected"] == [], response.text


@pytest.fixture
def seed(admin: Api, county: str) -> Seed:
    async def make(status: str = "poor", village_cadre: bool = False, birth: date = date(1980, 5, 17),
                   in_county: str | None = None, effective_on: str | None = EARLIEST_EFFECTIVE_ON) -> Household:
        household = Household(household_id(), id_number(in_county or county, birth), in_county or county, status,
                              village_cadre)
        await import_households(admin, household, effective_on=effective_on)
        return household

    return make


async def loan_of(lender: Api, seed: Seed, **overrides: object) -> str:
    """A new loan to a newly registered household of the county (`loan_body` with `overrides`): its id."""
    h = await seed()
    response = await lender.post("/loans", json=loan_body(h.household_id, h.head_id_number, **overrides))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])

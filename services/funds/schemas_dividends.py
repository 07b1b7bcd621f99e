"""The internal shapes of P12: a dividend the projects service asks funds to pay, and funds' answer."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field, field_validator

from services.kernel.types import WORD_PATTERN, CountyCode, Fen, Happened, Input

Id = Annotated[str, Field(min_length=1, max_length=40, pattern=WORD_PATTERN)]
HouseholdId = Annotated[str, Field(min_length=1, max_length=64, pattern=WORD_PATTERN)]


class PayoutIn(Input):
    household_id: HouseholdId
    amount_fen: Fen


class DividendPayIn(Input):
    dividend_id: Id
    county_code: CountyCode
    project_id: Annotated[str, Field(min_length=1, max_length=64)]
    asset_id: Id
    paid_on: Happened
    payouts: list[PayoutIn] = Field(min_length=1, max_length=20_000)

    @field_validator("payouts")
    @classmethod
    def _distinct(cls, value: list[PayoutIn]) -> list[PayoutIn]:
        if len({p.household_id for p in value}) != len(value):
            raise ValueError("household listed twice")
        return value


class PayoutPaid(BaseModel):
    household_id: str
    amount_fen: int
    account_no: str  # masked (A5)


class DividendPaid(BaseModel):
    dividend_id: str
    county_code: str
    asset_id: str
    paid_on: date
    replayed: bool  # paid by an earlier request with the same payouts
    payouts: list[PayoutPaid]

"""Request and response shapes of a project's contracts and the county's tender threshold (P8, P9; issue #17 point
2). The tender methods (招标方式): 公开招标 `public_tender`, 邀请招标 `invited_tender`, 竞争性谈判
`competitive_negotiation`, 直接委托 `direct_award` (with its reason)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel

from services.kernel.types import CountyCode, CreditCode, Day, Fen, Happened, Input, ShortText, Text

TenderMethod = Literal["public_tender", "invited_tender", "competitive_negotiation", "direct_award"]


class ContractCreate(Input):
    contract_no: ShortText
    contractor_uscc: CreditCode
    contractor_name: ShortText
    amount_fen: Fen
    tender_method: TenderMethod
    direct_award_reason: Text | None = None
    signed_on: Happened


class ContractRead(BaseModel):
    id: str
    project_id: str
    county_code: str
    contract_no: str
    contractor_uscc: str
    contractor_name: str
    amount_fen: int
    tender_method: str
    direct_award_reason: str | None
    signed_on: date
    created_at: datetime | None = None


class ContractInternal(BaseModel):
    """What funds needs of a contract to pay against it (F11), nothing more."""

    id: str
    project_id: str
    county_code: str
    contractor_uscc: str
    amount_fen: int


class TenderThresholdCreate(Input):
    county_code: CountyCode
    amount_fen: Fen
    effective_on: Day
    doc_no: ShortText


class TenderThresholdRead(BaseModel):
    id: str | None  # None: the documented default, the county having published none in force
    county_code: str
    amount_fen: int
    effective_on: date | None
    doc_no: str | None
    default: bool


class TenderThresholdsRead(BaseModel):
    """The threshold in force today and every version the county published, newest first."""

    in_force: TenderThresholdRead
    versions: list[TenderThresholdRead]

"""Shapes of the basis of a payment and of the county's subsidy standards (F11–F14; issue #17 points 2 and 8)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from services.kernel.types import CountyCode, Day, Fen, Input, ShortText, Text

# 分类补助标准: the county's own categories (e.g. 产业奖补-养殖), a short name without surrounding white space
SubsidyCategory = Annotated[str, Field(min_length=1, max_length=64, description="the county's subsidy category")]
ContractStage = Literal["progress", "retention", "final"]  # 进度款, 质保金, 尾款 (F14)
BasisKind = Literal["wages", "subsidy", "dividend", "other"]  # 劳务报酬/以工代赈, 奖补, 分红, other with a reason


class PaymentBasis(Input):
    """F12: why a household is paid. `category` names the standard of a subsidy (F13); `reason` explains `other`."""

    kind: BasisKind
    category: SubsidyCategory | None = None
    reason: Text | None = None


class PaymentBasisRead(BaseModel):
    kind: str
    category: str | None = None
    reason: str | None = None


class SubsidyStandardCreate(Input):
    """F13: a county's published subsidy standard (分类补助标准), the most one household receives in a calendar year
    under this category, from `effective_on` (a new version supersedes it; nothing is edited)."""

    county_code: CountyCode
    category: SubsidyCategory
    amount_fen: Fen
    effective_on: Day
    doc_no: ShortText


class SubsidyStandardRead(BaseModel):
    id: str
    county_code: str
    category: str
    amount_fen: int
    effective_on: date
    doc_no: str

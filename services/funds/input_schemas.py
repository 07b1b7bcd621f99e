"""Request and response shapes of the obligations declared as reference data (issue #17: F15's plan requirement,
F17–F18's input obligations), docs/api.md "Funds"."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StrictInt

from services.funds.schemas import FiscalYear
from services.kernel.types import Fen, FenOrZero, Happened, Input, RegionCode, ShortText

ObligationCode = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="obligation code")]
ObligationKind = Literal["county_plan", "revenue_increment", "recovered_idle", "year_on_year_growth",
                         "industry_share"]
SHARED_KINDS = frozenset({"revenue_increment", "recovered_idle", "industry_share"})  # these have a share


class ObligationPut(Input):
    region_code: RegionCode
    kind: ObligationKind
    level: Literal["province", "city", "county"] | None = None
    share_bp: Annotated[StrictInt, Field(ge=1, le=10_000)] | None = None
    from_year: FiscalYear
    to_year: FiscalYear | None = None
    doc_no: ShortText


class ObligationRead(BaseModel):
    code: str
    region_code: str
    kind: str
    level: str | None
    share_bp: int | None
    from_year: int
    to_year: int | None
    doc_no: str


class RevenueCreate(Input):
    """A region's revenue for a year (地方一般公共预算收入) as declared; a correction is a later declaration."""

    region_code: RegionCode
    fiscal_year: FiscalYear
    revenue_fen: FenOrZero
    doc_no: ShortText


class RevenueRead(RevenueCreate):
    id: str


class RecoveryCreate(Input):
    """Idle money the region recovered (清理回收存量资金) and the part of it put to targeted poverty work."""

    region_code: RegionCode
    fiscal_year: FiscalYear
    amount_fen: Fen
    to_poverty_fen: FenOrZero
    recovered_on: Happened | None = None
    doc_no: ShortText


class RecoveryRead(BaseModel):
    id: str
    region_code: str
    fiscal_year: int
    amount_fen: int
    to_poverty_fen: int
    recovered_on: date
    doc_no: str


class ObligationResult(BaseModel):
    code: str
    kind: str
    rule: str
    doc_no: str
    share_bp: int | None
    key: str  # the fund source an industry share is judged for, else empty
    status: Literal["pass", "fail", "no_figures"]
    required_fen: int | None
    actual_fen: int | None
    facts: dict[str, Any]


class InputReport(BaseModel):
    region_code: str
    fiscal_year: int
    items: list[ObligationResult]

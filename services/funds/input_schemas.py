"""Request and response shapes of the obligations declared as reference data (issue #17: F15's plan requirement,
F17–F18's input obligations), docs/api.md "Funds"."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictInt

from services.funds.schemas import FiscalYear
from services.kernel.types import Input, RegionCode, ShortText

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

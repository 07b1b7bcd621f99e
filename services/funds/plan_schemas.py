"""Request and response shapes of the county's integration plan (issue #17 point 1, docs/api.md "Funds")."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictInt

from services.funds.codes import PLAN_LINES_MAX
from services.funds.schemas import FiscalYear, RecordId, SourceCode
from services.kernel.types import CountyCode, Fen, Happened, Input, Text


class PlannedSource(Input):
    fund_source: SourceCode
    amount_fen: Fen


class PlannedProject(Input):
    project_id: RecordId
    amount_fen: Fen


class PlanLines(Input):
    sources: Annotated[list[PlannedSource], Field(min_length=1, max_length=PLAN_LINES_MAX)]
    projects: Annotated[list[PlannedProject], Field(max_length=PLAN_LINES_MAX)]
    filed_on: Happened | None = None


class PlanCreate(PlanLines):
    county_code: CountyCode
    fiscal_year: FiscalYear


class PlanAdjustment(PlanLines):
    """An adjustment (调整): the plan as a whole as it now stands, and why."""

    reason: Text


class PlanReportCreate(Input):
    version: Annotated[StrictInt, Field(ge=1, le=1_000_000)]
    reported_on: Happened | None = None


class PlanVersionRead(BaseModel):
    version: int
    reason: str | None
    filed_on: date
    reported_on: date | None
    sources: list[PlannedSource]
    projects: list[PlannedProject]
    sources_fen: int
    projects_fen: int
    recorded_by_org: str | None = None


class PlanRead(BaseModel):
    id: str
    county_code: str
    fiscal_year: int
    # draft: no version reported yet; reported: the latest version is the one in force; adjusted: a later version
    # awaits its report while an earlier reported one is in force
    state: Literal["draft", "reported", "adjusted"]
    version_in_force: int | None
    versions: list[PlanVersionRead]


class ExecutionRow(BaseModel):
    key: str  # the fund source's code or the project's id
    planned_fen: int
    arranged_fen: int
    paid_fen: int


class PlanExecution(BaseModel):
    county_code: str
    fiscal_year: int
    plan_id: str | None
    version_in_force: int | None
    by_source: list[ExecutionRow]
    by_project: list[ExecutionRow]

"""The plan against the money (issue #17 point 1): `GET /funds/reports/plan-execution` — per fund source and per
project, what the county's plan in force for the year plans, what the year arranged and what it paid (net of
reversals). Money arranged or paid outside the plan is shown too, planned 0."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy.ext.asyncio import AsyncSession

from services.funds.plan_schemas import ExecutionRow, PlanExecution
from services.funds.repository import plans as repository


def _rows(planned: dict[str, int], arranged: dict[str, int], paid: dict[str, int]) -> list[ExecutionRow]:
    keys = sorted(set(planned) | set(arranged) | set(paid))
    return [ExecutionRow(key=k, planned_fen=planned.get(k, 0), arranged_fen=arranged.get(k, 0),
                         paid_fen=paid.get(k, 0)) for k in keys]


async def plan_execution(session: AsyncSession, *, county_code: str, fiscal_year: int) -> PlanExecution:
    in_force = await repository.version_in_force(session, county_code=county_code, fiscal_year=fiscal_year)
    planned: dict[str, dict[str, int]] = {"source": {}, "project": {}}
    if in_force is not None:
        for kind in planned:
            planned[kind] = await repository.planned(session, county_code=county_code, plan_id=in_force[0],
                                                     version=in_force[1], kind=kind)
    money: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in await repository.execution(session, county_code=county_code, fiscal_year=fiscal_year):
        money[(row.kind, "source")][row.fund_source] += int(row.amount_fen)
        money[(row.kind, "project")][row.project_id] += int(row.amount_fen)
    return PlanExecution(
        county_code=county_code, fiscal_year=fiscal_year,
        plan_id=in_force[0] if in_force else None, version_in_force=in_force[1] if in_force else None,
        by_source=_rows(planned["source"], money[("arrangement", "source")], money[("disbursement", "source")]),
        by_project=_rows(planned["project"], money[("arrangement", "project")], money[("disbursement", "project")]),
    )

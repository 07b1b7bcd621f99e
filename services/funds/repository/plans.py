"""The county's integration plans (issue #17 point 1): plans, their versions and lines, the reports of versions, the
obligations declared as reference data, and the year's arranged and paid money a plan is held against. Every read
names the county, the first column of each plan table's key."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Row, func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.funds.models import Obligation, Plan, PlanLine, PlanReport, PlanVersion
from services.funds.repository.unique import as_duplicate
from services.kernel import locks
from services.kernel.db import any_of


async def insert_plan(session: AsyncSession, **values: Any) -> None:
    """Duplicate when the county already has a plan for the year (uq_plans_county_year)."""
    try:
        await session.execute(insert(Plan).values(**values))
    except IntegrityError as exc:
        raise as_duplicate(exc) from exc


async def insert_version(session: AsyncSession, *, lines: Sequence[dict[str, Any]], **values: Any) -> None:
    """Duplicate when another filing took the version number first (two adjustments at once)."""
    try:
        await session.execute(insert(PlanVersion).values(**values))
    except IntegrityError as exc:
        raise as_duplicate(exc) from exc
    if lines:
        await session.execute(insert(PlanLine), [
            {"county_code": values["county_code"], "plan_id": values["plan_id"], "version": values["version"], **line}
            for line in lines
        ])


async def insert_report(session: AsyncSession, **values: Any) -> None:
    """Duplicate when the version was reported already (by a request at the same moment)."""
    try:
        await session.execute(insert(PlanReport).values(**values))
    except IntegrityError as exc:
        raise as_duplicate(exc) from exc


async def plan_of_year(session: AsyncSession, *, county_code: str, fiscal_year: int) -> Plan | None:
    statement = select(Plan).where(col(Plan.county_code) == county_code, col(Plan.fiscal_year) == fiscal_year)
    return (await session.execute(statement)).scalar_one_or_none()


async def get_plan(session: AsyncSession, plan_id: str) -> Plan | None:
    """A plan by its id alone (the one read that does not name its county: GET /funds/plans/{id})."""
    return (await session.execute(select(Plan).where(col(Plan.id) == plan_id))).scalar_one_or_none()


async def list_plans(session: AsyncSession, *, prefix: str, fiscal_year: int | None) -> list[Plan]:
    statement = select(Plan).where(col(Plan.county_code).startswith(prefix))
    if fiscal_year is not None:
        statement = statement.where(col(Plan.fiscal_year) == fiscal_year)
    statement = statement.order_by(col(Plan.county_code), col(Plan.fiscal_year)).limit(500)
    return list((await session.execute(statement)).scalars())


async def versions(session: AsyncSession, *, county_code: str, plan_id: str) -> list[tuple[PlanVersion, date | None]]:
    """Each version of the plan, oldest first, with the date it was reported (null: not reported)."""
    statement = (
        select(PlanVersion, col(PlanReport.reported_on))
        .outerjoin(PlanReport, (col(PlanReport.county_code) == col(PlanVersion.county_code))
                   & (col(PlanReport.plan_id) == col(PlanVersion.plan_id))
                   & (col(PlanReport.version) == col(PlanVersion.version)))
        .where(col(PlanVersion.county_code) == county_code, col(PlanVersion.plan_id) == plan_id)
        .order_by(col(PlanVersion.version))
    )
    return [(row[0], row[1]) for row in (await session.execute(statement)).all()]


async def lines(session: AsyncSession, *, county_code: str, plan_id: str) -> list[PlanLine]:
    statement = (
        select(PlanLine).where(col(PlanLine.county_code) == county_code, col(PlanLine.plan_id) == plan_id)
        .order_by(col(PlanLine.version), col(PlanLine.kind), col(PlanLine.ref))
    )
    return list((await session.execute(statement)).scalars())


async def version_in_force(session: AsyncSession, *, county_code: str, fiscal_year: int) -> tuple[str, int] | None:
    """F15: the plan and the latest reported version of the county's plan for the year, or None."""
    statement = (
        select(col(Plan.id), func.max(col(PlanReport.version)))
        .join(PlanReport, (col(PlanReport.county_code) == col(Plan.county_code))
              & (col(PlanReport.plan_id) == col(Plan.id)))
        .where(col(Plan.county_code) == county_code, col(Plan.fiscal_year) == fiscal_year)
        .group_by(col(Plan.id))
    )
    row = (await session.execute(statement)).first()
    return None if row is None else (str(row[0]), int(row[1]))


async def planned(session: AsyncSession, *, county_code: str, plan_id: str, version: int, kind: str) -> dict[str, int]:
    statement = select(col(PlanLine.ref), col(PlanLine.amount_fen)).where(
        col(PlanLine.county_code) == county_code, col(PlanLine.plan_id) == plan_id, col(PlanLine.version) == version,
        col(PlanLine.kind) == kind,
    )
    return {str(r[0]): int(r[1]) for r in await session.execute(statement)}


async def obligation_declared(session: AsyncSession, *, kind: str, regions: Sequence[str], level: str,
                              year: int) -> bool:
    """Is an obligation of `kind` declared for one of `regions` (a region and those above it), for regions of
    `level`, in force in `year`?"""
    statement = select(col(Obligation.code)).where(
        col(Obligation.kind) == kind, any_of(col(Obligation.region_code), regions),
        col(Obligation.from_year) <= year,
        (col(Obligation.to_year).is_(None)) | (col(Obligation.to_year) >= year),
        (col(Obligation.level).is_(None)) | (col(Obligation.level) == level),
    ).limit(1)
    return (await session.execute(statement)).first() is not None


async def put_obligation(session: AsyncSession, *, code: str, **values: Any) -> None:
    statement = upsert(Obligation).values(code=code, **values)
    await session.execute(statement.on_conflict_do_update(
        index_elements=[col(Obligation.code)], set_={**{k: statement.excluded[k] for k in values},
                                                     "updated_at": func.now()},
    ))


async def get_obligation(session: AsyncSession, code: str, *, lock: bool = False) -> Obligation | None:
    query = select(Obligation).where(col(Obligation.code) == code)
    return (await session.execute(query.with_for_update() if lock else query)).scalar_one_or_none()


# The year's money of a county's projects by fund source and project, net of reversals: arrangements into its
# project accounts and payments out of them, dated in the year (the ledger's transfers, not the records: an
# arrangement that names no fund source draws from several, one transfer each). Per project account, its two index
# ranges (its 'in' legs, its 'out' legs, within the year, on ix_transfer_legs_account): a join on "destination if
# an arrangement, else source" no index serves read every transfer of the year (440 ms for a county of a province's
# 5 million; 24 ms so).
_EXECUTION = text(
    """
    SELECT t.kind, t.fund_source, a.ref AS project_id, SUM(t.amount_fen) AS amount_fen
    FROM accounts a
    CROSS JOIN LATERAL (
        SELECT kind, fund_source, amount_fen, record_id FROM transfer_legs
        WHERE account_id = a.id AND leg = 'in' AND kind = 'arrangement'
          AND occurred_on >= make_date(:year, 1, 1) AND occurred_on < make_date(:year + 1, 1, 1)
        UNION ALL
        SELECT kind, fund_source, amount_fen, record_id FROM transfer_legs
        WHERE account_id = a.id AND leg = 'out' AND kind = 'disbursement'
          AND occurred_on >= make_date(:year, 1, 1) AND occurred_on < make_date(:year + 1, 1, 1)
    ) t
    WHERE a.region_code = :county AND a.kind = 'project' AND (:project_id = '' OR a.ref = :project_id)
      AND NOT EXISTS (SELECT 1 FROM reversals r WHERE r.target_id = t.record_id)
    GROUP BY t.kind, t.fund_source, a.ref
    """
)


async def execution(session: AsyncSession, *, county_code: str, fiscal_year: int,
                    project_id: str = "") -> list[Row[Any]]:
    params = {"county": county_code, "year": fiscal_year, "project_id": project_id}
    return list(await session.execute(_EXECUTION, params))


async def hold_plan_year(session: AsyncSession, *, county_code: str, fiscal_year: int, shared: bool) -> None:
    """F15/F16: the county's plan of a year and its arrangements, until the transaction ends. An arrangement holds it
    shared (arrangements go on side by side: each is kept within its project's plan by its ledger row's lock), a
    report exclusive: it judges what the year arranged with none under way, and an arrangement that waited for it is
    judged on the version it put in force. A row lock could not do it: a project's first arrangement writes its
    ledger row, which nothing else can lock before it commits."""
    await locks.hold(session, f"funds:plan:{county_code}:{fiscal_year}", shared=shared)

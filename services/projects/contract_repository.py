"""Every query of a project's contracts and the county's tender thresholds (P8, P9)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.kernel.scope import within
from services.projects.models import Contract, Project, TenderThreshold


async def contracted_fen(session: AsyncSession, *, county_code: str, project_id: str) -> int:
    """What the project's contracts add up to."""
    query = select(func.coalesce(func.sum(col(Contract.amount_fen)), 0)).where(
        col(Contract.county_code) == county_code, col(Contract.project_id) == project_id)
    return int((await session.execute(query)).scalar_one())


async def contracts_of(session: AsyncSession, *, county_code: str, project_id: str) -> list[Contract]:
    query = select(Contract).where(col(Contract.county_code) == county_code, col(Contract.project_id) == project_id)
    return list((await session.execute(query.order_by(col(Contract.signed_on), col(Contract.id)))).scalars())


async def find_contract(session: AsyncSession, *, project_id: str, contract_id: str) -> Contract | None:
    """A contract of a project (the internal API: by the two ids; the key's county comes from the project)."""
    query = (select(Contract).join(Project, col(Project.id) == col(Contract.project_id))
             .where(col(Contract.county_code) == col(Project.county_code), col(Project.id) == project_id,
                    col(Contract.id) == contract_id))
    return (await session.execute(query)).scalar_one_or_none()


async def thresholds_of(session: AsyncSession, county_codes: list[str]) -> list[TenderThreshold]:
    """Every published threshold of these counties, in the order published."""
    query = (select(TenderThreshold).where(col(TenderThreshold.county_code).in_(county_codes))
             .order_by(col(TenderThreshold.created_at), col(TenderThreshold.id)))
    return list((await session.execute(query)).scalars())


async def direct_awards(session: AsyncSession, *, prefix: str, as_of: date) -> list[Row[Any]]:
    """P9: the direct awards signed by `as_of` under `prefix`, of every (project, contractor) that has two or more,
    with the project's owner unit (O13)."""
    repeated = (select(col(Contract.county_code), col(Contract.project_id), col(Contract.contractor_uscc))
                .where(col(Contract.tender_method) == "direct_award", col(Contract.signed_on) <= as_of,
                       within(col(Contract.county_code), prefix))
                .group_by(col(Contract.county_code), col(Contract.project_id), col(Contract.contractor_uscc))
                .having(func.count() >= 2).subquery())
    query = (select(col(Contract.county_code), col(Contract.project_id), col(Contract.contractor_uscc),
                    col(Contract.contractor_name), col(Contract.id), col(Contract.amount_fen),
                    col(Contract.signed_on), col(Project.responsible_org))
             .join(repeated, (repeated.c.county_code == col(Contract.county_code))
                   & (repeated.c.project_id == col(Contract.project_id))
                   & (repeated.c.contractor_uscc == col(Contract.contractor_uscc)))
             .join(Project, col(Project.id) == col(Contract.project_id))
             .where(col(Contract.tender_method) == "direct_award", col(Contract.signed_on) <= as_of)
             .order_by(col(Contract.county_code), col(Contract.project_id), col(Contract.contractor_uscc),
                       col(Contract.signed_on), col(Contract.id)))
    return list(await session.execute(query))

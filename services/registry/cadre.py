"""R1 (issue #17 point 11): the county's approved exceptions for village cadres' households (seed 002 §二.1: a
household with a sitting village cadre "原则上不能识别纳入", in principle). An exception is recorded here, lets the
household through L1 and F10 from the day it was approved (rules.ineligibility, asked by loans and funds through
the eligibility API), and is shown to inspectors: listed, in the household's record, and as a CADRE_EXCEPTION alert."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.alerts import AlertDraft, DetectorContext, DetectorRegistry
from services.kernel.identity import Principal
from services.kernel.ids import new_id
from services.kernel.pagination import Page, page_of
from services.registry import codes, repository, rules
from services.registry.models import CadreException
from services.registry.schemas import CadreExceptionCreate, CadreExceptionRead

detectors = DetectorRegistry()


def read_of(exception: CadreException) -> CadreExceptionRead:
    return CadreExceptionRead.model_validate(exception, from_attributes=True)


async def record(session: AsyncSession, *, principal: Principal, household_id: str,
                 body: CadreExceptionCreate) -> CadreExceptionRead:
    """R1: the household is one the caller reaches (404 / 403 as its record), with a sitting village cadre on the
    current roster (else 422 NOT_A_CADRE_HOUSEHOLD); the approval is kept as given, append-only."""
    household = await repository.get_household(session, principal, household_id)
    rules.check_cadre_exception_needed(village_cadre=household.village_cadre, household_id=household_id)
    exception = CadreException(
        county_code=household.county_code, id=new_id("cex"), household_id=household_id,
        approved_by=body.approved_by, approved_on=body.approved_on, doc_no=body.doc_no, reason=body.reason or "",
        recorded_by=principal.id, recorded_by_org=principal.organisation,
    )
    await repository.add_cadre_exception(session, exception)
    return read_of(exception)


async def of_household(session: AsyncSession, household_id: str) -> list[CadreExceptionRead]:
    return [read_of(e) for e in await repository.cadre_exceptions_of(session, [household_id])]


async def listed(session: AsyncSession, *, principal: Principal, county: str | None, after: str | None,
                 limit: int) -> Page[CadreExceptionRead]:
    rows: Sequence[CadreException] = await repository.cadre_exception_page(session, principal=principal, county=county,
                                                                 after=after, limit=limit)
    return page_of([read_of(e) for e in rows], limit, lambda item: [item.id])


@detectors.register(codes.CADRE_EXCEPTION)
async def cadre_exceptions(ctx: DetectorContext) -> list[AlertDraft]:
    """R1: each exception approved by the scan's day, so inspectors see every household let through by one."""
    found = await repository.cadre_exceptions_approved_by(ctx.session, prefix=ctx.region_prefix, on=ctx.as_of)
    return [
        AlertDraft(
            type=codes.CADRE_EXCEPTION, severity="low", region_code=e.county_code, subject_kind="cadre_exception",
            subject_id=e.id,
            facts={"rule": codes.R1, "household_id": e.household_id, "approved_by": e.approved_by,
                   "approved_on": e.approved_on.isoformat(), "doc_no": e.doc_no, "reason": e.reason},
            responsible_org=e.recorded_by_org,  # O13: the organisation that recorded the county's approval
        )
        for e in found
    ]

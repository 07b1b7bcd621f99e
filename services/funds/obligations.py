"""Obligations as reference data (issue #17): which policy applies to which regions and years — F15's requirement
that a pilot county have a plan in force, F17–F18's input obligations — declared by a province or city above (or the
centre), kept up to date like the counties (reference data, not a recorded fact)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.funds import problems
from services.funds.input_schemas import SHARED_KINDS, ObligationPut, ObligationRead
from services.funds.repository import plans as repository
from services.kernel.identity import Principal
from services.kernel.regions import region_level
from services.kernel.scope import S1, check_covers


def check_obligation(body: ObligationPut) -> None:
    """A share is given exactly for the kinds that have one; a period ends no earlier than it starts."""
    if (body.kind in SHARED_KINDS) != (body.share_bp is not None):
        raise problems.share_given_wrongly(body.kind, needed=body.kind in SHARED_KINDS)
    if body.to_year is not None and body.to_year < body.from_year:
        raise problems.period_reversed()


async def put_obligation(session: AsyncSession, *, principal: Principal, code: str,
                         body: ObligationPut) -> ObligationRead:
    """S1: declared by a principal above the regions it binds (the centre, a province or a city covering
    `region_code`), never by a county for itself."""
    check_obligation(body)
    if region_level(principal.region_code) == "county":
        raise problems.obligation_set_from_above(body.region_code)
    check_covers(principal, body.region_code, field="region_code", rule=S1)
    stored = await repository.get_obligation(session, code, lock=True)
    if stored is not None:  # it binds a region now: whoever changes it covers that one too
        check_covers(principal, stored.region_code, field="code", rule=S1, subject=f"obligation {code}")
    await repository.put_obligation(session, code=code, **body.model_dump())
    return ObligationRead(code=code, **body.model_dump())


async def get_obligation(session: AsyncSession, code: str) -> ObligationRead:
    found = await repository.get_obligation(session, code)
    if found is None:
        raise problems.no_obligation(code)
    return ObligationRead.model_validate(found, from_attributes=True)

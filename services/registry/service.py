"""Reads of the roster: one household, a page of them, a batch lookup, and a status as of a date."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.kernel.errors import NotFound, NotInJurisdiction
from services.kernel.identity import Principal
from services.kernel.types import mask_account_no, mask_id_number
from services.registry import rules
from services.registry.models import Household, HouseholdStatus
from services.registry.schemas import (
    Eligibility,
    HouseholdDetail,
    HouseholdInternal,
    HouseholdRead,
    StatusAt,
    StatusChange,
)

FULL_ID_ROLES = frozenset({"admin"})


async def find_household(session: AsyncSession, *, household_id: str) -> Household | None:
    return await session.get(Household, household_id)


async def get_household(session: AsyncSession, *, principal: Principal, household_id: str) -> Household:
    """The household, if the principal's jurisdiction covers its county."""
    household = await find_household(session, household_id=household_id)
    if household is None:
        raise NotFound(f"没有户 {household_id} / no household {household_id} in the roster")
    if not principal.covers(household.village_code):
        raise NotInJurisdiction(
            f"户 {household_id} 不在管辖范围内 / household {household_id} is outside your jurisdiction "
            f"({principal.region_code})"
        )
    return household


async def history_of(session: AsyncSession, *, household_id: str) -> Sequence[HouseholdStatus]:
    """The household's recorded status changes, in order: none while it keeps the state it was registered in."""
    query = (
        select(HouseholdStatus)
        .where(col(HouseholdStatus.household_id) == household_id)
        .order_by(col(HouseholdStatus.effective_on), col(HouseholdStatus.id))
    )
    return (await session.execute(query)).scalars().all()


async def list_households(
    session: AsyncSession,
    *,
    principal: Principal,
    county: str | None,
    status: str | None,
    limit: int,
    after: str | None,
) -> Sequence[Household]:
    """A keyset page by household id, only inside the principal's jurisdiction (fetches limit + 1)."""
    query = select(Household).order_by(col(Household.household_id)).limit(limit + 1)
    if principal.region_prefix:
        query = query.where(col(Household.village_code).startswith(principal.region_prefix, autoescape=True))
    if county is not None:
        query = query.where(col(Household.county_code) == county)
    if status is not None:
        query = query.where(col(Household.status) == status)
    if after is not None:
        query = query.where(col(Household.household_id) > after)
    return (await session.execute(query)).scalars().all()


async def lookup(session: AsyncSession, *, household_ids: list[str]) -> Sequence[Household]:
    query = select(Household).where(col(Household.household_id).in_(set(household_ids)))
    return (await session.execute(query)).scalars().all()


async def status_at(session: AsyncSession, *, household_id: str, on: date) -> StatusAt | None:
    """The status and cadre flag in force on `on`: the last change that took effect on or before it."""
    [(status, cadre)] = await _standing(session, [(household_id, on)])
    if status is None:
        return None
    return StatusAt(household_id=household_id, status=status, village_cadre=cadre)


# Each (household, day) in one statement: the history row in force on the day; else, for a household whose
# history is empty (it keeps the state it was registered in), its record from its registration day on; the current
# record when no day.
_STANDING = text(
    """
    SELECT coalesce(s.status, c.status) AS status, coalesce(s.village_cadre, c.village_cadre) AS village_cadre
    FROM unnest(CAST(:ids AS text[]), CAST(:days AS date[])) WITH ORDINALITY AS q(household_id, day, n)
    LEFT JOIN LATERAL (
        SELECT h.status, h.village_cadre FROM household_status_history h
        WHERE q.day IS NOT NULL AND h.household_id = q.household_id AND h.effective_on <= q.day
        ORDER BY h.effective_on DESC, h.id DESC LIMIT 1
    ) s ON true
    LEFT JOIN household_records c ON c.household_id = q.household_id AND (
        q.day IS NULL
        OR s.status IS NULL AND c.registered_on <= q.day
           AND NOT EXISTS (SELECT 1 FROM household_status_history x WHERE x.household_id = q.household_id))
    ORDER BY q.n
    """
)


async def _standing(
    session: AsyncSession, queries: Sequence[tuple[str, date | None]]
) -> list[tuple[str | None, bool | None]]:
    """The status and cadre flag of each household on its day (None: the current record), in the order asked;
    (None, None) where it was not on the roster."""
    params = {"ids": [household_id for household_id, _ in queries], "days": [day for _, day in queries]}
    return [(row.status, row.village_cadre) for row in await session.execute(_STANDING, params)]


async def eligibility(session: AsyncSession, *, queries: Sequence[tuple[str, date | None]]) -> list[Eligibility]:
    """L1, P3, F10: whether each household may receive poverty support on its date (None: the current roster),
    judged by rules.ineligibility on the status and cadre flag in force then; in the order asked."""
    if not queries:
        return []
    answers = []
    for (household_id, day), (status, cadre) in zip(queries, await _standing(session, queries), strict=True):
        reasons = rules.ineligibility(status, bool(cadre))
        answers.append(Eligibility(
            household_id=household_id, on=day, eligible=not reasons, reasons=reasons, status=status,
            village_cadre=cadre,
        ))
    return answers


def read_of(household: Household, *, principal: Principal) -> HouseholdRead:
    """A5: the head's identity number and the 一卡通 account (S7) in full for admin only."""
    read = HouseholdRead.model_validate(household, from_attributes=True)
    if principal.role not in FULL_ID_ROLES:
        read.head_id_number = mask_id_number(household.head_id_number)
        read.card_account = mask_account_no(household.card_account)
    return read


def detail_of(household: Household, history: Sequence[HouseholdStatus], *, principal: Principal) -> HouseholdDetail:
    """The record and its status history: the state it was registered in when nothing changed since."""
    changes = [StatusChange.model_validate(change, from_attributes=True) for change in history] or [
        StatusChange(
            status=household.status,
            village_cadre=household.village_cadre,
            effective_on=household.registered_on,
        )
    ]
    return HouseholdDetail(**read_of(household, principal=principal).model_dump(), status_history=changes)


def internal_of(household: Household) -> HouseholdInternal:
    return HouseholdInternal.model_validate(household, from_attributes=True)

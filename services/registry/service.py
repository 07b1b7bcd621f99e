"""Reads of the roster as the API answers them: a status as of a date, eligibility (rules.ineligibility on the
standing the repository reads), and what each caller may see of a household (A5)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel import marks
from services.kernel.identity import Principal
from services.kernel.types import mask_account_no, mask_id_number
from services.registry import repository, rules
from services.registry.models import Household, HouseholdStatus
from services.registry.schemas import (
    CadreExceptionRead,
    Eligibility,
    HouseholdDetail,
    HouseholdInternal,
    HouseholdRead,
    StatusAt,
    StatusChange,
)

FULL_ID_ROLES = frozenset({"admin"})


async def status_at(session: AsyncSession, *, household_id: str, on: date) -> StatusAt | None:
    """The status and cadre flag in force on `on`: the last change that took effect on or before it."""
    [(status, cadre, _)] = await repository.standing(session, [(household_id, on)])
    if status is None:
        return None
    return StatusAt(household_id=household_id, status=status, village_cadre=cadre)


async def eligibility(session: AsyncSession, *, queries: Sequence[tuple[str, date | None]]) -> list[Eligibility]:
    """L1, P3, F10: whether each household may receive poverty support on its date (None: the current roster),
    judged by rules.ineligibility on the status and cadre flag in force then; in the order asked."""
    if not queries:
        return []
    answers = []
    standing = await repository.standing(session, queries)
    for (household_id, day), (status, cadre, excepted) in zip(queries, standing, strict=True):
        reasons = rules.ineligibility(status, bool(cadre), bool(excepted))
        answers.append(Eligibility(
            household_id=household_id, on=day, eligible=not reasons, reasons=reasons, status=status,
            village_cadre=cadre, cadre_excepted=bool(cadre and excepted),
        ))
    return answers


async def ineligible(
    session: AsyncSession, *, on: date, after: str, limit: int
) -> tuple[list[Eligibility], str | None]:
    """L1, P3, F10 the other way round: the households on the roster on `on` that may not receive poverty support
    that day (rules.ineligibility: not_poor, or a village cadre), by household id after `after`; and the cursor of
    the next page (None at the end). What a scan of every borrowing household asks, in a few calls."""
    rows = await repository.ineligible_page(
        session, day=on, eligible=sorted(rules.ELIGIBLE_STATUSES), after=after, limit=limit
    )
    answers = []
    for household_id, status, cadre, excepted in rows:
        reasons = rules.ineligibility(status, cadre, excepted)
        if reasons:
            answers.append(Eligibility(household_id=household_id, on=on, eligible=False, reasons=reasons,
                                       status=status, village_cadre=cadre))
    return answers, (rows[-1][0] if len(rows) == limit else None)


async def changed(session: AsyncSession, *, since: int, after: str, limit: int) -> tuple[list[str], str | None, int]:
    """The households whose standing on some day may have changed since transaction `since` (F10's incremental
    run), by household id after `after`; the cursor of the next page (None at the end); and the transaction to ask
    from next time (kernel/marks.reading_from: taken before the read)."""
    read_from = await marks.reading_from(session)
    items = await repository.changed_since(session, since=since, after=after, limit=limit)
    return items, (items[-1] if len(items) == limit else None), read_from


def read_of(household: Household, *, principal: Principal) -> HouseholdRead:
    """A5: the head's identity number and the 一卡通 account (S7) in full for admin only."""
    read = HouseholdRead.model_validate(household, from_attributes=True)
    if principal.role not in FULL_ID_ROLES:
        read.head_id_number = mask_id_number(household.head_id_number)
        read.card_account = mask_account_no(household.card_account)
    return read


def detail_of(household: Household, history: Sequence[HouseholdStatus], *, principal: Principal,
              exceptions: Sequence[CadreExceptionRead] = ()) -> HouseholdDetail:
    """The record and its status history (the state it was registered in when nothing changed since), and the
    county's exceptions for its village cadre (R1)."""
    changes = [StatusChange.model_validate(change, from_attributes=True) for change in history] or [
        StatusChange(
            status=household.status,
            village_cadre=household.village_cadre,
            effective_on=household.registered_on,
        )
    ]
    return HouseholdDetail(**read_of(household, principal=principal).model_dump(), status_history=changes,
                           cadre_exceptions=list(exceptions))


def internal_of(household: Household) -> HouseholdInternal:
    return HouseholdInternal.model_validate(household, from_attributes=True)

"""Disbursements (project → payee) and the payments the detectors look at (F8, F10), within a scan's region."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Row, insert, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.funds.models import Disbursement
from services.funds.repository.unique import Duplicate


async def insert_disbursement(session: AsyncSession, **values: Any) -> None:
    """Duplicate for a voucher already posted in the county."""
    try:
        await session.execute(insert(Disbursement).values(**values))
    except IntegrityError as exc:
        raise Duplicate(str(exc.orig)) from exc


_DUPLICATES = text(
    """
    SELECT d2.id, d2.county_code, d2.project_id, d2.payee_id, d2.amount_fen, d2.paid_on, d2.voucher_no,
           d1.id AS first_id, d1.paid_on AS first_paid_on, d1.voucher_no AS first_voucher_no
    FROM disbursements d1
    JOIN disbursements d2 ON d2.payee_id = d1.payee_id AND d2.project_id = d1.project_id
        AND d2.amount_fen = d1.amount_fen AND (d2.paid_on, d2.id) > (d1.paid_on, d1.id)
        AND d2.paid_on - d1.paid_on <= :days
    WHERE d2.paid_on <= :as_of AND d2.county_code LIKE :region
      AND NOT EXISTS (SELECT 1 FROM reversals r WHERE r.target_id IN (d1.id, d2.id) AND r.reversed_on <= :as_of)
    ORDER BY d2.id
    """
)


async def repeated(session: AsyncSession, *, prefix: str, as_of: date, days: int) -> list[Row[Any]]:
    """Payments under `prefix` repeating an earlier one (same payee, project, amount) within `days`, as of a date."""
    params = {"days": days, "as_of": as_of, "region": prefix + "%"}
    return list(await session.execute(_DUPLICATES, params))


_HOUSEHOLD_PAYMENTS = text(
    """
    SELECT d.id, d.county_code, d.project_id, d.payee_id, d.amount_fen, d.paid_on FROM disbursements d
    WHERE d.payee_kind = 'household' AND d.paid_on <= :as_of AND d.paid_on > :since AND d.county_code LIKE :region
      AND NOT EXISTS (SELECT 1 FROM reversals r WHERE r.target_id = d.id AND r.reversed_on <= :as_of)
    ORDER BY d.id
    """
)


async def to_households(session: AsyncSession, *, prefix: str, as_of: date, since: date) -> list[Row[Any]]:
    """Live payments to households under `prefix`, made after `since` and on or before `as_of`."""
    params = {"as_of": as_of, "since": since, "region": prefix + "%"}
    return list(await session.execute(_HOUSEHOLD_PAYMENTS, params))

"""Issue #18's detectors (L14, L17, L19): set-based SQL over a jurisdiction's loans as of a date, registered on
the loans service's DetectorRegistry (detectors.py) and run by POST /alerts/scan."""

from __future__ import annotations

from typing import Any

from services.kernel.alerts import AlertDraft, DetectorContext
from services.loans import codes, records_rules, repository
from services.loans.detectors import detectors


@detectors.register(codes.ALERT_UNRECORDED_RENEWAL)
async def unrecorded_renewal(ctx: DetectorContext) -> list[AlertDraft]:
    """L14 (借新还旧 hidden): a new loan to a household issued within 30 days of an old one of it being fully repaid,
    not recorded as its renewal (POST /loans/{id}/renewals)."""
    rows = await repository.unrecorded_renewals(ctx.session, as_of=ctx.as_of, prefix=ctx.region_prefix,
                                                window_days=codes.RENEWAL_WINDOW_DAYS)
    # one alert a new loan: the old loan repaid closest to its issue date
    closest: dict[str, Any] = {}
    for row in rows:
        kept = closest.get(row.id)
        if kept is None or abs((row.issued_on - row.repaid_on).days) < abs((kept.issued_on - kept.repaid_on).days):
            closest[row.id] = row
    return [
        AlertDraft(
            type=codes.ALERT_UNRECORDED_RENEWAL, severity="medium", region_code=row.county_code, subject_kind="loan",
            subject_id=row.id, responsible_org=row.responsible_org,
            facts={"loan_id": row.id, "old_loan_id": row.old_id, "household_id": row.household_id,
                   "old_repaid_on": row.repaid_on.isoformat(), "issued_on": row.issued_on.isoformat(),
                   "days_apart": abs((row.issued_on - row.repaid_on).days),
                   "window_days": codes.RENEWAL_WINDOW_DAYS, "rule": "L14"},
        )
        for row in closest.values()
    ]


@detectors.register(codes.ALERT_NO_RETURN_TO_HOUSEHOLD)
async def no_return_to_household(ctx: DetectorContext) -> list[AlertDraft]:
    """L17: a cooperative-mode loan owing, issued 12 months or more ago, whose household has received no recorded
    return (POST /loans/{id}/returns) in the last 12 months."""
    since = records_rules.no_return_since(ctx.as_of)
    rows = await repository.cooperative_loans_without_return(
        ctx.session, as_of=ctx.as_of, since=since, prefix=ctx.region_prefix)
    return [
        AlertDraft(
            type=codes.ALERT_NO_RETURN_TO_HOUSEHOLD, severity="medium", region_code=row.county_code,
            subject_kind="loan", subject_id=row.id, responsible_org=row.responsible_org,
            facts={"loan_id": row.id, "household_id": row.household_id, "cooperative_uscc": row.cooperative_uscc,
                   "last_return_on": row.last_return_on.isoformat() if row.last_return_on else None,
                   "months": codes.NO_RETURN_MONTHS, "rule": "L17"},
        )
        for row in rows
    ]


@detectors.register(codes.ALERT_LOAN_ABOVE_CREDIT_LINE)
async def loan_above_credit_line(ctx: DetectorContext) -> list[AlertDraft]:
    """L19: a loan above the limit of the household's latest credit evaluation (授信) before its issue date: an
    alert, not a refusal (the evaluation is the bank's, and may be stale)."""
    rows = await repository.loans_above_credit_line(ctx.session, as_of=ctx.as_of, prefix=ctx.region_prefix)
    return [
        AlertDraft(
            type=codes.ALERT_LOAN_ABOVE_CREDIT_LINE, severity="medium", region_code=row.county_code,
            subject_kind="loan", subject_id=row.id, responsible_org=row.responsible_org,
            facts={"loan_id": row.id, "household_id": row.household_id, "amount_fen": row.amount_fen,
                   "limit_fen": row.limit_fen, "lender_name": row.lender_name,
                   "evaluated_on": row.evaluated_on.isoformat(), "grade": row.grade, "rule": "L19"},
        )
        for row in rows
    ]

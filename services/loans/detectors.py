"""Misuse detectors (L1, L2, L5) as of a date: set-based SQL over every loan, only data dated on or before as_of.
A scan of a jurisdiction reads only its counties' loans (S2), but for LOAN_FUNDS_CONCENTRATION, whose households may
lie in several counties: it reads them all and the kernel keeps the alerts the jurisdiction covers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.kernel.alerts import AlertDraft, DetectorContext, DetectorRegistry, Severity
from services.kernel.regions import common_region
from services.loans import codes, repository, risk_rules, rules
from services.loans.clients import registry_for_scan

detectors = DetectorRegistry()

SEVERITY_OF_BUCKET: dict[str, Severity] = {"1-30": "low", "31-90": "medium", "91-180": "high", "180+": "critical"}

@detectors.register(codes.ALERT_LOAN_OVERDUE)
async def loan_overdue(ctx: DetectorContext) -> list[AlertDraft]:
    """L5: a loan past the maturity in force with principal outstanding. The facts say its bucket, not its days past
    due (maturity_on and the scan's day give them): an open alert changes, and is rewritten, when the loan moves to
    another bucket or its debt changes, not every day it stays overdue."""
    drafts = []
    for row in await repository.overdue_loans(ctx.session, as_of=ctx.as_of, prefix=ctx.region_prefix):
        days = (ctx.as_of - row.maturity_in_force).days
        bucket = rules.bucket_of(days)
        drafts.append(AlertDraft(
            type=codes.ALERT_LOAN_OVERDUE, severity=SEVERITY_OF_BUCKET[bucket], region_code=row.county_code,
            subject_kind="loan", subject_id=row.id,
            facts={"loan_id": row.id, "household_id": row.household_id, "bucket": bucket,
                   "outstanding_fen": int(row.owed), "maturity_on": row.maturity_in_force.isoformat(),
                   "extended": row.extended, "rule": "L5"},
            responsible_org=row.responsible_org,  # O13: the lending branch, as the loan recorded it
        ))
    return drafts


async def _misuse(
    ctx: DetectorContext, *, enterprise: bool, alert_type: str, rule: str, severity: Severity
) -> list[AlertDraft]:
    rows = await repository.misused_loans(ctx.session, as_of=ctx.as_of, prefix=ctx.region_prefix, enterprise=enterprise)
    return [
        AlertDraft(
            type=alert_type, severity=severity, region_code=row.county_code, subject_kind="loan", subject_id=row.id,
            facts={"loan_id": row.id, "household_id": row.household_id, "mode": row.mode,
                   "usage_reports": row.reports, "rule": rule},
            responsible_org=row.responsible_org,  # O13: the lending branch, as the loan recorded it
        )
        for row in rows
    ]


@detectors.register(codes.ALERT_LOAN_ENTERPRISE_USE)
async def loan_enterprise_use(ctx: DetectorContext) -> list[AlertDraft]:
    """L2a/L3: a usage report sends the money to an enterprise, or to a cooperative outside the cooperative mode."""
    return await _misuse(ctx, enterprise=True, alert_type=codes.ALERT_LOAN_ENTERPRISE_USE,
                         rule="L2a", severity="high")


@detectors.register(codes.ALERT_LOAN_NON_PRODUCTIVE_USE)
async def loan_non_productive_use(ctx: DetectorContext) -> list[AlertDraft]:
    """L2b: a usage report shows a non-productive use (house, wedding or funeral, consumption, debt…)."""
    return await _misuse(ctx, enterprise=False, alert_type=codes.ALERT_LOAN_NON_PRODUCTIVE_USE,
                         rule="L2b", severity="medium")


@detectors.register(codes.ALERT_LOAN_FUNDS_CONCENTRATION)
async def loan_funds_concentration(ctx: DetectorContext) -> list[AlertDraft]:
    """L2a, covert 户贷企用: loans of five or more households reaching one organisation within 90 days up to as_of."""
    window_from = ctx.as_of - timedelta(days=codes.CONCENTRATION_WINDOW_DAYS)
    rows = await repository.concentrations(
        ctx.session, window_from=window_from, as_of=ctx.as_of, threshold=codes.CONCENTRATION_HOUSEHOLDS
    )
    return [
        AlertDraft(
            type=codes.ALERT_LOAN_FUNDS_CONCENTRATION, severity="high", region_code=common_region(row.counties),
            subject_kind="organisation", subject_id=row.credit_code,
            responsible_org=rules.lending_branch(row.lending_orgs),  # O13: the branch that lent, if one
            facts={"credit_code": row.credit_code, "name": row.name, "households": row.households,
                   "amount_fen": int(row.amount_fen), "window_days": codes.CONCENTRATION_WINDOW_DAYS,
                   "loans": row.loans, "lending_orgs": sorted(o for o in row.lending_orgs if o), "rule": "L2a"},
        )
        for row in rows
    ]


@detectors.register(codes.ALERT_INELIGIBLE_BORROWER)
async def ineligible_borrower(ctx: DetectorContext) -> list[AlertDraft]:
    """L1/F10: a household with a loan outstanding on `as_of` is not eligible on that day (not_poor, or a village
    cadre), as the registry judges it on the roster in force that day: the daily scan reads today's roster, a scan
    of a past day that day's. The registry lists the households ineligible that day (a few calls of 20,000, whatever
    the number of borrowers) and the scan keeps those owing (asked among them only). Origination refused such
    households on the issue date with rules.check_household_eligible (BORROWER_NOT_ELIGIBLE)."""
    judged = await registry_for_scan(ctx).ineligible_on(ctx.as_of)
    if not judged:
        return []
    owing = await repository.households_owing(ctx.session, as_of=ctx.as_of, prefix=ctx.region_prefix,
                                              among=[e.household_id for e in judged])
    active: dict[str, Any] = {row.household_id: row for row in owing}
    drafts = []
    for eligibility in judged:
        reasons = [r for r in eligibility.reasons if r != codes.REGISTRY_NOT_REGISTERED]
        row = active.get(eligibility.household_id)
        if row is None or not reasons:
            continue
        drafts.append(AlertDraft(
            type=codes.ALERT_INELIGIBLE_BORROWER, severity="high", region_code=row.county_code,
            subject_kind="household", subject_id=eligibility.household_id,
            responsible_org=rules.lending_branch(row.lending_orgs),  # O13: the branch that lent, if one
            facts={"household_id": eligibility.household_id, "status": eligibility.status,
                   "village_cadre": eligibility.village_cadre, "reasons": reasons, "loan_ids": list(row.loan_ids),
                   "outstanding_fen": int(row.owed), "lending_orgs": sorted(o for o in row.lending_orgs if o),
                   "rule": "L1"},
        ))
    return drafts


@detectors.register(codes.ALERT_RISK_FUND_DEPLETED)
async def risk_fund_depleted(ctx: DetectorContext) -> list[AlertDraft]:
    """L10 (issue #18): a risk-compensation fund has lost (compensations paid less the recoveries' shares returned)
    more than the declared share of its deposit: the county tops it up, or the bank's lending under it is reviewed."""
    drafts = []
    for row in await repository.fund_losses(ctx.session, prefix=ctx.region_prefix, as_of=ctx.as_of):
        fund, paid, returned = row[0], int(row.paid), int(row.returned)
        if not risk_rules.depleted(paid_fen=paid, returned_fen=returned, deposit_fen=fund.deposit_fen,
                                   depleted_share_bp=fund.depleted_share_bp):
            continue
        drafts.append(AlertDraft(
            type=codes.ALERT_RISK_FUND_DEPLETED, severity="high", region_code=fund.county_code,
            subject_kind="risk_fund", subject_id=fund.id,
            facts={"fund_id": fund.id, "bank_name": fund.bank_name, "deposit_fen": fund.deposit_fen,
                   "claims_paid_fen": paid, "recoveries_returned_fen": returned,
                   "depleted_share_bp": fund.depleted_share_bp, "rule": "L10"},
            responsible_org=fund.recorded_by_org,  # O13: the finance bureau that set the fund up
        ))
    return drafts


# Issue #18's detectors (L14, L17, L19) register themselves on `detectors` too: whoever runs this registry (the app,
# the benches, the daily run) runs them. Imported last, as they import `detectors` from here.
from services.loans import records_detectors  # noqa: E402, F401, I001

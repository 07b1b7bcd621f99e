"""Subsidy settlement (issue #18 point 3): rates declared per county and period (L11), a bank's claims computed loan
by loan (L12, L6), checked and approved by two people of finance and paid through the funds ledger (L13). Flush
only; the unit of work commits. The rules are in subsidy_rules.py, the queries in subsidy_repository.py."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel import clock
from services.kernel.identity import Principal
from services.kernel.ids import new_id
from services.kernel.pagination import decode_cursor, encode_cursor
from services.kernel.scope import check_covers, scope_prefix
from services.kernel.uow import BriefReads
from services.loans import problems
from services.loans import subsidy_repository as repository
from services.loans import subsidy_rules as rules
from services.loans.clients import Funds, SettledOtherwise
from services.loans.models import SubsidyClaim, SubsidyDecision, SubsidyRate
from services.loans.repository import Record
from services.loans.subsidy_rules import DeclaredRate, LoanFacts, Period
from services.loans.subsidy_schemas import (
    SubsidyClaimCreate,
    SubsidyClaimLineRead,
    SubsidyClaimRead,
    SubsidyDecisionCreate,
    SubsidyDecisionRead,
    SubsidyRateCreate,
    SubsidyRateRead,
)


def rate_read(rate: SubsidyRate) -> SubsidyRateRead:
    return SubsidyRateRead.model_validate(rate, from_attributes=True)


async def declare_rate(session: AsyncSession, principal: Principal, body: SubsidyRateCreate) -> SubsidyRateRead:
    """L11: a county's rate for a period, under the county's lock so two overlapping declarations cannot both pass."""
    check_covers(principal, body.county_code, field="county_code")
    period = Period(body.period_from, body.period_to)
    await repository.lock_county(session, body.county_code)
    declared = await repository.rates_of(session, prefix=body.county_code)
    rules.check_rate_does_not_overlap(body.county_code, period,
                                      (Period(r.period_from, r.period_to) for r in declared))
    rate = SubsidyRate(id=new_id("sbr"), county_code=body.county_code, period_from=body.period_from,
                       period_to=body.period_to, rate_bp=body.rate_bp, paid_to=body.paid_to,
                       fund_source=body.fund_source, declared_by=principal.id)
    await repository.add(session, rate)
    return rate_read(rate)


async def list_rates(session: AsyncSession, principal: Principal, county: str | None) -> list[SubsidyRateRead]:
    prefix = scope_prefix(principal, county, field="county")
    return [rate_read(r) for r in await repository.rates_of(session, prefix=prefix)]


def _facts(row: Record, repayments: list[tuple[Any, int]]) -> LoanFacts:
    misuse: tuple[tuple[Any, Any], ...] = ()
    if row.misuse_from is not None:
        until = None if row.alert_open or row.resolved_on is None else row.resolved_on
        misuse = ((row.misuse_from, until),) if until is None or until > row.misuse_from else ()
    return LoanFacts(amount_fen=row.amount_fen, issued_on=row.issued_on, maturity_in_force=row.maturity_in_force,
                     repayments=repayments, misuse=misuse)


async def _lines(session: AsyncSession, claim: SubsidyClaim) -> list[dict[str, Any]]:
    """L12: each loan of the bank in the county issued before the period's end, with its figures (L6), a chunk of
    loans at a time; refused SUBSIDY_ALREADY_CLAIMED if a loan's period overlaps one claimed before."""
    period = Period(claim.period_from, claim.period_to)
    lines: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        loans = await repository.claimable_loans(session, county_code=claim.county_code,
                                                 lender_name=claim.lender_name, lending_org=claim.recorded_by_org,
                                                 before=claim.period_to, after=after)
        if not loans:
            return lines
        ids = [row.id for row in loans]
        rules.check_not_claimed([(r.loan_id, r.claim_id) for r in await repository.claimed_before(
            session, county_code=claim.county_code, loan_ids=ids, period_from=claim.period_from,
            period_to=claim.period_to)])
        repaid: dict[str, list[tuple[Any, int]]] = {}
        for r in await repository.principal_repayments(session, ids, before=claim.period_to):
            repaid.setdefault(r.loan_id, []).append((r.paid_on, r.principal_fen))
        for row in loans:
            line = rules.claim_line(_facts(row, repaid.get(row.id, [])), period, claim.rate_bp)
            lines.append(dict(
                county_code=claim.county_code, claim_id=claim.id, loan_id=row.id, household_id=row.household_id,
                borrower_name=row.borrower_name, period_from=claim.period_from, period_to=claim.period_to,
                days=line.days, subsidised_days=line.subsidised_days, overdue_days=line.overdue_days,
                misuse_days=line.misuse_days, excluded=line.excluded, principal_fen_days=line.principal_fen_days,
                subsidy_fen=line.subsidy_fen,
            ))
        after = ids[-1]


async def submit_claim(session: AsyncSession, principal: Principal, body: SubsidyClaimCreate) -> SubsidyClaim:
    """L12: the bank's claim for a county and period at the rate declared for it (L11), computed loan by loan, under
    the county's lock (two claims at once take turns, so a loan's period cannot be claimed twice)."""
    check_covers(principal, body.county_code, field="county_code")
    period = Period(body.period_from, body.period_to)
    rules.check_claimable_period(period, clock.today())
    await repository.lock_county(session, body.county_code)
    declared = await repository.rates_of(session, prefix=body.county_code)
    rate = rules.rate_for(body.county_code, period, (
        DeclaredRate(Period(r.period_from, r.period_to), r.rate_bp, r.paid_to, r.fund_source) for r in declared))
    claim = SubsidyClaim(
        id=new_id("sbc"), county_code=body.county_code, lender_name=body.lender_name, period_from=body.period_from,
        period_to=body.period_to, rate_bp=rate.rate_bp, paid_to=rate.paid_to, fund_source=rate.fund_source,
        bank_account_no=body.bank_account_no, loans=0, subsidy_fen=0, submitted_by=principal.id,
        recorded_by_org=principal.organisation,
    )
    lines = await _lines(session, claim)
    if not lines:
        raise problems.subsidy_nothing_to_claim(body.county_code, body.lender_name)
    claim.loans, claim.subsidy_fen = len(lines), sum(line["subsidy_fen"] for line in lines)
    await repository.add(session, claim)
    await repository.insert_lines(session, lines)
    return claim


def status_of(decisions: list[SubsidyDecision]) -> str:
    done = {d.decision for d in decisions}
    for status in ("rejected", "approved", "checked"):
        if status in done:
            return status
    return "submitted"


async def claim_read(
    session: AsyncSession, principal: Principal, claim_id: str, *, cursor: str | None, limit: int
) -> SubsidyClaimRead:
    """The claim, its decisions and a page of its loans (keyset by loan id)."""
    claim = await repository.get_claim(session, principal, claim_id)
    decisions = list(await repository.decisions_of(session, claim))
    key = decode_cursor(cursor, 1)
    rows = list(await repository.lines_page(session, claim, after=str(key[0]) if key else None, limit=limit))
    more = len(rows) > limit
    rows = rows[:limit]
    return SubsidyClaimRead(
        **{k: getattr(claim, k) for k in (
            "id", "county_code", "lender_name", "period_from", "period_to", "rate_bp", "paid_to", "fund_source",
            "bank_account_no", "loans", "subsidy_fen", "submitted_by")},
        status=status_of(decisions),
        decisions=[SubsidyDecisionRead.model_validate(d, from_attributes=True) for d in decisions],
        items=[SubsidyClaimLineRead.model_validate(r, from_attributes=True) for r in rows],
        next_cursor=encode_cursor([rows[-1].loan_id]) if more else None,
    )


def _check(claim: SubsidyClaim, decisions: list[SubsidyDecision], principal: Principal,
           body: SubsidyDecisionCreate) -> None:
    final = next((d.decision for d in decisions if d.decision in ("approved", "rejected")), None)
    checked_by = next((d.decided_by for d in decisions if d.decision == "checked"), None)
    rules.check_decision(decision=body.decision, principal=principal, submitted_by=claim.submitted_by,
                         checked_by=checked_by, decided=final, claim_id=claim.id)


async def _settle(brief: BriefReads, funds: Funds, principal: Principal, claim_id: str,
                   body: SubsidyDecisionCreate) -> str | None:
    """L13, before this request's transaction: read the claim in a brief session, check the decision, and have funds
    settle it: an approval paid, a rejection voided (funds settles a claim once, keyed by it: asked again, it answers
    what it did; settled the other way first, the decision is refused and nothing recorded)."""
    async with brief() as reads:
        claim = await repository.get_claim(reads, principal, claim_id)
        _check(claim, list(await repository.decisions_of(reads, claim)), principal, body)
        # read while the brief session is open (its end expires the claim's attributes)
        claimed, county, fund, paid_to = claim.id, claim.county_code, claim.fund_source, claim.paid_to
        owed: list[tuple[str, int]] = []
        if body.decision == "approved":
            async for chunk in repository.all_lines(reads, claim):
                owed += [(line.household_id, line.subsidy_fen) for line in chunk]
        payees = rules.payees(paid_to, claim.bank_account_no, owed)
    try:
        if body.decision == "rejected":
            await funds.void_claim(county_code=county, kind="subsidy", payment_key=claimed)
        if body.decision != "approved" or not payees:  # every loan lost its subsidy (L6): nothing to pay
            return None
        return await funds.pay_subsidy(claim_id=claimed, county_code=county, fund_source=fund, payee_kind=paid_to,
                                       payees=payees, paid_on=body.paid_on or clock.today())
    except SettledOtherwise as settled:
        raise problems.subsidy_claim_settled(claimed, settled.decision) from settled


async def decide(session: AsyncSession, brief: BriefReads, funds: Funds, principal: Principal, claim_id: str,
                 body: SubsidyDecisionCreate) -> SubsidyClaim:
    """L13: check, approve (paid through the funds ledger) or reject (the payment voided in funds first); decided
    again under the claim's lock, so two decisions at once do not both pass."""
    payment_id = await _settle(brief, funds, principal, claim_id, body)
    claim = await repository.get_claim(session, principal, claim_id)
    await repository.lock_claim(session, claim.id)
    _check(claim, list(await repository.decisions_of(session, claim)), principal, body)
    approved = body.decision == "approved"
    await repository.add(session, SubsidyDecision(
        county_code=claim.county_code, claim_id=claim.id, decision=body.decision, note=body.note,
        paid_on=(body.paid_on or clock.today()) if approved else None, payment_id=payment_id,
        decided_by=principal.id, recorded_by_org=principal.organisation,
    ))
    return claim

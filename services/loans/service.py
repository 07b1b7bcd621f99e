"""Origination and servicing: load, apply the rules (rules.py), write. Flush only; the unit of work commits."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel import clock, throttle
from services.kernel.errors import Problem
from services.kernel.identity import Principal
from services.kernel.ids import new_id
from services.kernel.scope import check_covers
from services.loans import codes, origination_records, problems, records_rules, repository, risk_funds, rules
from services.loans.clients import Registry
from services.loans.models import Extension, Loan, Repayment, UsageReport
from services.loans.rules import Household
from services.loans.schemas import ExtensionCreate, LoanCreate, RepaymentCreate, UsageReportCreate


def check_contract(body: LoanCreate, official_names: Sequence[str]) -> str | None:
    """L1a on the number given, L2a–e and the L4 amount and term caps, in the order of rules.py, with the
    cooperative mode's agreement (L15) and the partnership mode's partners (L16) after L3, and L2e against the
    province's official names (L18); returns the cooperative to record (L3)."""
    rules.check_borrower_age(body.borrower_id_number, body.issued_on)
    account = body.disbursement_account
    cooperative = rules.check_disbursement_account(
        borrower_id_number=body.borrower_id_number, mode=body.mode, holder_id_number=account.holder_id_number,
        holder_uscc=account.holder_uscc, cooperative_uscc=body.cooperative_uscc,
    )
    agreement = body.agreement
    records_rules.check_agreement(
        body.mode, records_rules.AgreementTerms(agreement.signed_on, agreement.cooperative_uscc) if agreement else None,
        cooperative_uscc=cooperative, issued_on=body.issued_on,
    )
    records_rules.check_partners_named(body.mode, body.partners or (), body.household_id)
    rules.check_productive_purpose(body.purpose)
    rules.check_rate_at_benchmark(body.annual_rate_bp, body.benchmark_rate_bp, body.fees_fen,
                                  issued_on=body.issued_on, term_months=body.term_months)
    rules.check_no_collateral(body.collateral_required, body.guarantee_required)
    records_rules.check_product_name(body.product_name, official_names)
    rules.check_amount_cap(body.amount_fen)
    rules.check_term_cap(body.term_months)
    return cooperative


async def ask_registry(registry: Registry, body: LoanCreate) -> tuple[Any, Any, Any]:
    """The household's record (head, county), L1 on the issue date and, for a partnership-mode loan, its partners
    on the roster then (L16, one batch): independent reads of the registry, at once; all are awaited to the end,
    then the first failure (the registry down: 503) is raised."""
    answers = await asyncio.gather(
        registry.household(body.household_id), registry.eligibility(body.household_id, body.issued_on),
        origination_records.partner_eligibilities(registry, body), return_exceptions=True,
    )
    for answer in answers:
        if isinstance(answer, BaseException):
            raise answer
    found, judged, partners = answers
    return found, judged, partners


def registered_household(principal: Principal, body: LoanCreate, found: Any, judged: Any) -> Household:
    """L1 on the household (on the roster now and on the issue date, eligible then) and the jurisdiction; not the
    borrower's number yet (rules.py, S6)."""
    household = rules.check_household_registered(found, body.household_id)
    check_covers(principal, household.county_code, subject=f"household {body.household_id}")
    rules.check_household_eligible(judged, body.issued_on)
    return household


async def originate(session: AsyncSession, registry: Registry, principal: Principal, body: LoanCreate) -> Loan:
    """Who may borrow and what is lent, the borrower's number compared last; a refusal about the borrower is counted
    for the principal, and too many of them are an enumeration (S6: alert, then 429)."""
    target = body.household_id
    # the registry is asked before this request takes a database connection (none is held while it answers); then
    # a principal or household at S6's limit is answered 429 before anything is judged
    found, judged, partners = await ask_registry(registry, body)
    await throttle.check_not_limited(session, principal=principal, limit=codes.BORROWER_CHECKS, target=target)
    official = await origination_records.official_names(session, body.product_name,
                                                        found.county_code if found is not None else None)
    try:
        cooperative = check_contract(body, official)
        household = registered_household(principal, body, found, judged)
        records_rules.check_partners_registered(body.partners or (), partners, body.issued_on)
        await repository.lock_household(session, household.household_id)
        outstanding = await repository.household_outstanding(session, household.household_id)
        rules.check_household_cap(outstanding, body.amount_fen)
        await risk_funds.check_capacity(session, county_code=household.county_code, lender_name=body.lender_name,
                                        amount_fen=body.amount_fen)  # L7, where the county has a fund with the bank
        rules.check_borrower_is_head(household, body.borrower_id_number)
    except Problem as refusal:
        if refusal.code in codes.BORROWER_REFUSALS:
            await throttle.count_refusal(session, principal=principal, limit=codes.BORROWER_CHECKS, refusal=refusal,
                                         service="loans", target=target)
        raise
    account = body.disbursement_account
    loan = Loan(
        id=new_id("loan"), household_id=household.household_id, county_code=household.county_code,
        village_code=household.village_code, borrower_id_number=body.borrower_id_number,
        borrower_name=household.head_name, lender_name=body.lender_name, product_name=body.product_name,
        amount_fen=body.amount_fen, term_months=body.term_months, annual_rate_bp=body.annual_rate_bp,
        benchmark_rate_bp=body.benchmark_rate_bp, fees_fen=body.fees_fen,
        collateral_required=body.collateral_required, guarantee_required=body.guarantee_required, mode=body.mode,
        purpose=body.purpose, cooperative_uscc=cooperative, account_holder_id_number=account.holder_id_number,
        account_holder_uscc=account.holder_uscc, account_no=account.account_no, issued_on=body.issued_on,
        maturity_on=rules.maturity_of(body.issued_on, body.term_months), created_by=principal.id,
        recorded_by_org=principal.organisation,
        responsible_org=rules.responsible_org(lender_org=principal.organisation),
    )
    await repository.add(session, loan)
    await repository.add(session, repository.new_balance(loan))
    await origination_records.record_mode_records(session, loan, body, principal)
    return loan


async def repay(
    session: AsyncSession, principal: Principal, loan_id: str, body: RepaymentCreate
) -> tuple[Repayment, int]:
    """Record a repayment; the loan's row lock makes concurrent repayments of one loan take turns, so the principal
    repaid never exceeds the amount. Returns the repayment and the principal outstanding after it."""
    loan = await repository.get_loan(session, principal, loan_id, lock=True)
    outstanding = loan.amount_fen - await repository.principal_repaid(session, loan.id)
    rules.check_repayment(outstanding, body.principal_fen, issued_on=loan.issued_on, paid_on=body.paid_on)
    repayment = Repayment(
        id=new_id("rep"), loan_id=loan.id, county_code=loan.county_code, principal_fen=body.principal_fen,
        interest_fen=body.interest_fen, paid_on=body.paid_on, created_by=principal.id,
    )
    await repository.add(session, repayment)
    await repository.balance_repaid(session, repayment)
    return repayment, outstanding - body.principal_fen


async def extend(session: AsyncSession, principal: Principal, loan_id: str, body: ExtensionCreate) -> Extension:
    """L5: one extension (展期) per loan, recorded with its reason, at most 12 months past the original maturity."""
    loan = await repository.get_loan(session, principal, loan_id, lock=True)
    if await repository.extension_of(session, loan) is not None:
        raise problems.extension_exists(loan.id)
    if loan.amount_fen - await repository.principal_repaid(session, loan.id) == 0:
        raise problems.loan_repaid(loan.id)
    rules.check_extension(loan.maturity_on, body.new_maturity_on)
    extended_on = body.extended_on or clock.today()
    records_rules.check_extension_date(loan.issued_on, extended_on)
    extension = Extension(
        id=new_id("ext"), loan_id=loan.id, county_code=loan.county_code, original_maturity_on=loan.maturity_on,
        new_maturity_on=body.new_maturity_on, reason=body.reason, created_by=principal.id, extended_on=extended_on,
    )
    await repository.add(session, extension)
    await repository.balance_extended(session, extension)
    return extension


async def report_usage(
    session: AsyncSession, principal: Principal, loan_id: str, body: UsageReportCreate
) -> UsageReport:
    """A use-of-funds check: recorded as found (even when it breaks L2, which the detectors then flag)."""
    loan = await repository.get_loan(session, principal, loan_id)
    if body.reported_on < loan.issued_on:
        raise problems.usage_before_issue()
    report = UsageReport(
        id=new_id("use"), loan_id=loan.id, county_code=loan.county_code, recipient_kind=body.recipient.kind,
        recipient_id=body.recipient.id, recipient_name=body.recipient.name, amount_fen=body.amount_fen,
        purpose=body.purpose, reported_on=body.reported_on,
        breaks_enterprise_rule=rules.usage_breaks_enterprise_rule(body.recipient.kind, loan.mode),
        breaks_purpose_rule=rules.usage_breaks_purpose_rule(body.purpose),
        created_by=principal.id,
    )
    await repository.add(session, report)
    return report

"""Origination and servicing: load, apply the rules (rules.py), write. Flush only; the unit of work commits."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel import throttle
from services.kernel.errors import Conflict, NotFound, NotInJurisdiction, Problem, RuleViolation
from services.kernel.identity import Principal
from services.kernel.ids import new_id
from services.loans import codes, rules
from services.loans.clients import Registry
from services.loans.models import Extension, Loan, Repayment, UsageReport
from services.loans.rules import Household
from services.loans.schemas import ExtensionCreate, LoanCreate, RepaymentCreate, UsageReportCreate


def check_loan_jurisdiction(principal: Principal, loan: Loan) -> None:
    if not principal.covers(loan.county_code):
        raise NotInJurisdiction(f"贷款 {loan.id} 不在管辖范围内 / loan {loan.id} is outside your jurisdiction")


async def get_loan(session: AsyncSession, principal: Principal, loan_id: str, *, lock: bool = False) -> Loan:
    query = select(Loan).where(Loan.id == loan_id)  # type: ignore[arg-type]
    if lock:
        query = query.with_for_update()
    loan = (await session.execute(query)).scalar_one_or_none()
    if loan is None:
        raise NotFound(f"没有这笔贷款 / no loan {loan_id}")
    check_loan_jurisdiction(principal, loan)
    return loan


async def principal_repaid(session: AsyncSession, loan_id: str) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(Repayment.principal_fen), 0)).where(Repayment.loan_id == loan_id)  # type: ignore[arg-type]
    )
    return int(total or 0)


async def household_outstanding(session: AsyncSession, household_id: str) -> int:
    """L4: the principal still owed on every loan of the household (all recorded repayments counted)."""
    total = await session.scalar(
        text(
            "SELECT coalesce(sum(l.amount_fen - coalesce(r.repaid, 0)), 0) FROM loans l "
            "LEFT JOIN LATERAL (SELECT CAST(sum(principal_fen) AS bigint) AS repaid FROM loan_repayments "
            "WHERE loan_id = l.id) r ON true WHERE l.household_id = :household_id"
        ),
        {"household_id": household_id},
    )
    return int(total or 0)


async def lock_household(session: AsyncSession, household_id: str) -> None:
    """Serialise originations for one household until the transaction ends, so two concurrent loans cannot both
    pass the household cap (L4)."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"loans:household:{household_id}"}
    )


def check_contract(body: LoanCreate) -> str | None:
    """L1a on the number given, L2a–e and the L4 amount and term caps, in the order of rules.py; returns the
    cooperative to record (L3)."""
    rules.check_borrower_age(body.borrower_id_number, body.issued_on)
    account = body.disbursement_account
    cooperative = rules.check_disbursement_account(
        borrower_id_number=body.borrower_id_number, mode=body.mode, holder_id_number=account.holder_id_number,
        holder_uscc=account.holder_uscc, cooperative_uscc=body.cooperative_uscc,
    )
    rules.check_productive_purpose(body.purpose)
    rules.check_rate_at_benchmark(body.annual_rate_bp, body.benchmark_rate_bp, body.fees_fen,
                                  issued_on=body.issued_on, term_months=body.term_months)
    rules.check_no_collateral(body.collateral_required, body.guarantee_required)
    rules.check_product_name(body.product_name)
    rules.check_amount_cap(body.amount_fen)
    rules.check_term_cap(body.term_months)
    return cooperative


async def ask_registry(registry: Registry, body: LoanCreate) -> tuple[Any, Any]:
    """The household's record (head, county) and L1 on the issue date: two independent reads of the registry, at
    once; both are awaited to the end, then the first failure (the registry down: 503) is raised."""
    found, judged = await asyncio.gather(
        registry.household(body.household_id), registry.eligibility(body.household_id, body.issued_on),
        return_exceptions=True,
    )
    if isinstance(found, BaseException):
        raise found
    if isinstance(judged, BaseException):
        raise judged
    return found, judged


def registered_household(principal: Principal, body: LoanCreate, found: Any, judged: Any) -> Household:
    """L1 on the household (on the roster now and on the issue date, eligible then) and the jurisdiction; not the
    borrower's number yet (rules.py, S6)."""
    household = rules.check_household_registered(found, body.household_id)
    if not principal.covers(household.county_code):
        raise NotInJurisdiction(
            f"农户 {body.household_id} 所在县不在管辖范围内 / the household's county is outside your jurisdiction"
        )
    rules.check_household_eligible(judged, body.issued_on)
    return household


async def originate(session: AsyncSession, registry: Registry, principal: Principal, body: LoanCreate) -> Loan:
    """Who may borrow and what is lent, the borrower's number compared last; a refusal about the borrower is counted
    for the principal, and too many of them are an enumeration (S6: alert, then 429)."""
    target = body.household_id
    # the registry is asked before this request takes a database connection (none is held while it answers); then
    # a principal or household at S6's limit is answered 429 before anything is judged
    found, judged = await ask_registry(registry, body)
    await throttle.check_not_limited(session, principal=principal, limit=codes.BORROWER_CHECKS, target=target)
    try:
        cooperative = check_contract(body)
        household = registered_household(principal, body, found, judged)
        await lock_household(session, household.household_id)
        rules.check_household_cap(await household_outstanding(session, household.household_id), body.amount_fen)
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
    )
    session.add(loan)
    await session.flush()
    return loan


async def repay(
    session: AsyncSession, principal: Principal, loan_id: str, body: RepaymentCreate
) -> tuple[Repayment, int]:
    """Record a repayment; the loan's row lock makes concurrent repayments of one loan take turns, so the principal
    repaid never exceeds the amount. Returns the repayment and the principal outstanding after it."""
    loan = await get_loan(session, principal, loan_id, lock=True)
    outstanding = loan.amount_fen - await principal_repaid(session, loan.id)
    rules.check_repayment(outstanding, body.principal_fen, issued_on=loan.issued_on, paid_on=body.paid_on)
    repayment = Repayment(
        id=new_id("rep"), loan_id=loan.id, principal_fen=body.principal_fen, interest_fen=body.interest_fen,
        paid_on=body.paid_on, created_by=principal.id,
    )
    session.add(repayment)
    await session.flush()
    return repayment, outstanding - body.principal_fen


async def extend(session: AsyncSession, principal: Principal, loan_id: str, body: ExtensionCreate) -> Extension:
    """L5: one extension (展期) per loan, recorded with its reason, at most 12 months past the original maturity."""
    loan = await get_loan(session, principal, loan_id, lock=True)
    existing = await session.scalar(select(Extension).where(Extension.loan_id == loan.id))  # type: ignore[arg-type]
    if existing is not None:
        raise Conflict(f"L5: 该贷款已展期一次 / loan {loan.id} has already been extended once",
                       code=codes.EXTENSION_EXISTS, rule="L5")
    if loan.amount_fen - await principal_repaid(session, loan.id) == 0:
        raise Conflict(f"贷款已还清 / loan {loan.id} is repaid: nothing to extend", code=codes.LOAN_REPAID)
    rules.check_extension(loan.maturity_on, body.new_maturity_on)
    extension = Extension(
        id=new_id("ext"), loan_id=loan.id, original_maturity_on=loan.maturity_on,
        new_maturity_on=body.new_maturity_on, reason=body.reason, created_by=principal.id,
    )
    session.add(extension)
    await session.flush()
    return extension


async def report_usage(
    session: AsyncSession, principal: Principal, loan_id: str, body: UsageReportCreate
) -> UsageReport:
    """A use-of-funds check: recorded as found (even when it breaks L2, which the detectors then flag)."""
    loan = await get_loan(session, principal, loan_id)
    if body.reported_on < loan.issued_on:
        raise RuleViolation("用途报告日期早于放款日期 / a usage report cannot precede the issue date",
                                  code=codes.USAGE_BEFORE_ISSUE, field="reported_on")
    report = UsageReport(
        id=new_id("use"), loan_id=loan.id, recipient_kind=body.recipient.kind, recipient_id=body.recipient.id,
        recipient_name=body.recipient.name, amount_fen=body.amount_fen, purpose=body.purpose,
        reported_on=body.reported_on,
        breaks_enterprise_rule=rules.usage_breaks_enterprise_rule(body.recipient.kind, loan.mode),
        breaks_purpose_rule=rules.usage_breaks_purpose_rule(body.purpose),
        created_by=principal.id,
    )
    session.add(report)
    await session.flush()
    return report

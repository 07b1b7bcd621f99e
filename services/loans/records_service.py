"""Issue #18's loan records (L14–L19): renewals, the 一自两合 records, returns to households, the provinces' product
names. Load, apply records_rules, write; flush only (the unit of work commits)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.identity import Principal
from services.kernel.ids import new_id
from services.kernel.scope import check_covers
from services.loans import problems, records_rules, repository, service
from services.loans.clients import Registry
from services.loans.models import HouseholdReturn, Loan, ProductName, Renewal
from services.loans.records_schemas import (
    AgreementRead,
    LoanRecords,
    ProductNameCreate,
    ReturnCreate,
    ReturnRead,
)
from services.loans.schemas import LoanCreate


async def renew(session: AsyncSession, registry: Registry, principal: Principal, old_loan_id: str,
                body: LoanCreate) -> tuple[Renewal, Loan]:
    """L14: the new loan is judged as POST /loans judges one (the registry asked first, no connection held), then
    the old loan, locked so that two renewals of it take turns: the same household, issued before, repaid in full
    by the new issue date, not renewed before (and the unique key of loan_renewals)."""
    loan = await service.originate(session, registry, principal, body)
    old = await repository.get_loan(session, principal, old_loan_id, lock=True)
    renewed = await repository.renewal_of(session, old.county_code, old.id) is not None
    records_rules.check_renewal(
        records_rules.OldLoan(loan_id=old.id, household_id=old.household_id, issued_on=old.issued_on,
                              amount_fen=old.amount_fen, renewed=renewed),
        household_id=loan.household_id, issued_on=loan.issued_on,
        repaid_by_issue_fen=await repository.repaid_by(session, old.id, loan.issued_on),
    )
    renewal = Renewal(county_code=old.county_code, id=new_id("rnw"), old_loan_id=old.id, new_loan_id=loan.id,
                      household_id=old.household_id, renewed_on=loan.issued_on, created_by=principal.id)
    await repository.add_all(session, [renewal])
    return renewal, loan


async def record_return(session: AsyncSession, principal: Principal, loan_id: str,
                        body: ReturnCreate) -> HouseholdReturn:
    """L17: a return the cooperative paid the household of a cooperative-mode loan."""
    loan = await repository.get_loan(session, principal, loan_id)
    records_rules.check_return(loan.mode, issued_on=loan.issued_on, paid_on=body.paid_on)
    paid = HouseholdReturn(
        county_code=loan.county_code, id=new_id("ret"), loan_id=loan.id, household_id=loan.household_id,
        cooperative_uscc=loan.cooperative_uscc or "", amount_fen=body.amount_fen, paid_on=body.paid_on,
        created_by=principal.id,
    )
    await repository.add_all(session, [paid])
    return paid


async def register_product_name(session: AsyncSession, principal: Principal, body: ProductNameCreate) -> ProductName:
    """L18: a province registers an official name of the product (its admin, S1 on the province's code)."""
    check_covers(principal, body.province_code, field="province_code", subject=f"province {body.province_code}")
    if body.name in records_rules.official_names(body.province_code, ()):
        raise problems.product_name_exists(body.province_code, body.name)
    name = ProductName(province_code=body.province_code, name=body.name, created_by=principal.id)
    if not await repository.register_name(session, name):
        raise problems.product_name_exists(body.province_code, body.name)
    return name


async def product_names(session: AsyncSession, province_code: str) -> tuple[str, ...]:
    return records_rules.official_names(province_code,
                                        await repository.registered_names(session, province_code))


async def records(session: AsyncSession, principal: Principal, loan_id: str) -> LoanRecords:
    loan = await repository.get_loan(session, principal, loan_id)
    found = await repository.records_of(session, loan)
    renewals = found["renewals"]
    agreement = found["agreement"]
    return LoanRecords(
        loan_id=loan.id,
        renews_loan_id=next((r.old_loan_id for r in renewals if r.new_loan_id == loan.id), None),
        renewed_by_loan_id=next((r.new_loan_id for r in renewals if r.old_loan_id == loan.id), None),
        agreement=AgreementRead.model_validate(agreement, from_attributes=True) if agreement else None,
        partners=list(found["partners"]),
        returns=[ReturnRead.model_validate(r, from_attributes=True) for r in found["returns"]],
    )

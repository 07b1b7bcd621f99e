"""Issue #18 point 2 (L8, L9): a bank's compensation claim on the county's risk fund for a loan overdue beyond the
fund's threshold; finance's decision by another person than the recorder, an approval paying the fund's share in
the funds ledger (risk fund → bank); recoveries afterwards, the fund's share returned the same way (bank → fund).

Money moves in the funds service, over its internal API, before this service writes: the request reads first (a
brief session, no connection held while funds answers), asks funds, then locks the claim and records. Each move's
id is the record's own (`risk_rules.payment_id_of`, `recovery_id_of`): asked again after a failure here, funds
answers the move made and moves nothing twice."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.alerts_store import open_types
from services.kernel.identity import Principal
from services.kernel.ids import new_id
from services.kernel.scope import check_covers
from services.kernel.uow import BriefReads
from services.loans import codes, problems, repository, risk_rules
from services.loans.clients import Funds, SettledOtherwise
from services.loans.models import ClaimDecision, CompensationClaim, Loan, Recovery, RiskFund
from services.loans.risk_schemas import (
    ClaimCreate,
    ClaimRead,
    CompensationRecoveryCreate,
    CompensationRecoveryRead,
    DecisionCreate,
    DecisionRead,
)

MISUSE_ALERTS = (codes.ALERT_LOAN_ENTERPRISE_USE, codes.ALERT_LOAN_NON_PRODUCTIVE_USE)


async def claim(session: AsyncSession, principal: Principal, loan_id: str, body: ClaimCreate) -> ClaimRead:
    """L8: the county has a fund with the loan's bank; the loan is overdue more than its threshold on the claim's
    date; no open misuse alert; what is claimed stays within the principal outstanding not claimed already. The
    loan's row lock makes concurrent claims on it take turns."""
    loan = await repository.get_loan(session, principal, loan_id, lock=True)
    risk_rules.check_lending_branch(principal, loan.responsible_org, loan.id)
    if body.claimed_on < loan.issued_on:
        raise problems.dated_before("claimed_on", "放款日期", "the loan's issue date")
    fund = await repository.fund_for(session, loan.county_code, loan.lender_name)
    if fund is None:
        raise problems.no_risk_fund(loan.county_code, loan.lender_name)
    position = await repository.loan_position(session, loan, body.claimed_on)
    days = risk_rules.days_overdue(position.maturity_in_force, body.claimed_on)
    risk_rules.check_overdue_beyond(days, fund.claim_after_days)
    outstanding = await _check_coverable(session, loan, body.principal_lost_fen, claimed_before=0)
    record = CompensationClaim(
        county_code=loan.county_code, id=new_id("clm"), fund_id=fund.id, loan_id=loan.id,
        principal_lost_fen=body.principal_lost_fen, outstanding_fen=outstanding, days_overdue=days,
        claimed_on=body.claimed_on, reason=body.reason, created_by=principal.id,
        recorded_by_org=principal.organisation,
    )
    await repository.add(session, record)
    return claim_read(record, None, [])


async def _check_coverable(session: AsyncSession, loan: Loan, principal_lost_fen: int, *, claimed_before: int) -> int:
    """L8, when a claim is filed and again when it is approved (an alert raised, or a repayment made, in between
    changes what the fund covers): no open misuse alert on the loan, and the principal lost within what is
    outstanding now less what other claims not rejected claim (`claimed_before`: this claim's own, at approval).
    The principal outstanding."""
    risk_rules.check_not_misused(
        await open_types(session, subject_kind="loan", subject_id=loan.id, types=MISUSE_ALERTS))
    outstanding = loan.amount_fen - await repository.principal_repaid(session, loan.id)
    claimed = await repository.claimed_on_loan(session, loan.county_code, loan.id) - claimed_before
    risk_rules.check_claim_within(principal_lost_fen=principal_lost_fen, outstanding_fen=outstanding,
                                  claimed_fen=claimed)
    return outstanding


async def _claim_and_fund(reads: AsyncSession, principal: Principal,
                          claim_id: str) -> tuple[CompensationClaim, RiskFund, ClaimDecision | None, list[Recovery]]:
    found = await repository.claim_by_id(reads, claim_id)
    if found is None:
        raise problems.claim_not_found(claim_id)
    check_covers(principal, found.county_code, subject=f"claim {found.id}")
    fund = await repository.fund_by_id(reads, found.fund_id)
    assert fund is not None  # a foreign key
    recoveries = list(await repository.recoveries_of(reads, found))
    return found, fund, await repository.decision_of(reads, found), recoveries


def _move(kind: str, move_id: str, fund: RiskFund, amount_fen: int, doc_no: str, on: str) -> dict[str, object]:
    return {"id": move_id, "kind": kind, "county_code": fund.county_code, "fund_id": fund.id,
            "fund_source": fund.fund_source, "amount_fen": amount_fen, "doc_no": doc_no, "occurred_on": on}


async def _settle(funds: Funds, found: CompensationClaim, fund: RiskFund, paid: int, body: DecisionCreate, *,
                  approve: bool) -> list[str]:
    """L9, before the decision is recorded: funds settles the claim once, under its payment's id: an approval's
    compensation moved, a rejection's payment voided (asked again, funds answers what it did). Settled the other way
    first, the decision is refused and nothing recorded. The compensation's transfer ids."""
    payment_id = risk_rules.payment_id_of(found.id)
    try:
        if not approve:
            await funds.void_claim(county_code=found.county_code, kind="compensation", payment_key=payment_id)
            return []
        if paid == 0:
            return []
        moved = await funds.move_risk_money(_move("compensation", payment_id, fund, paid, fund.agreement_no,
                                                  body.decided_on.isoformat()))
    except SettledOtherwise as settled:
        raise problems.claim_settled(found.id, settled.decision) from settled
    return list(moved["transfer_ids"])


async def decide(session: AsyncSession, brief: BriefReads, funds: Funds, principal: Principal, claim_id: str,
                 body: DecisionCreate, *, approve: bool) -> ClaimRead:
    """L9: decided once, by someone other than the recorder; an approval pays the fund's share of the principal
    lost from the fund's account to the bank's in the funds ledger (INSUFFICIENT_FUNDS there is passed on), a
    rejection voids that payment there first (`_settle`)."""
    async with brief() as reads:
        found, fund, decision, recoveries = await _claim_and_fund(reads, principal, claim_id)
        if approve and decision is None:
            loan = await repository.get_loan(reads, principal, found.loan_id)
            await _check_coverable(reads, loan, found.principal_lost_fen, claimed_before=found.principal_lost_fen)
        reads.expunge_all()  # kept as read: the brief session's rollback would expire them
    if decision is not None:
        raise problems.claim_decided(found.id, decision.decision)
    risk_rules.check_not_self_decided(found.created_by, principal.id)
    if body.decided_on < found.claimed_on:
        raise problems.dated_before("decided_on", "申请日期", "the claim's date")
    paid = risk_rules.share_of(found.principal_lost_fen, fund.fund_share_bp) if approve else 0
    transfers = await _settle(funds, found, fund, paid, body, approve=approve)
    await repository.lock_named(session, f"claim:{found.id}")
    again = await repository.decision_of(session, found)
    if again is not None:
        raise problems.claim_decided(found.id, again.decision)
    record = ClaimDecision(
        county_code=found.county_code, claim_id=found.id, decision="approved" if approve else "rejected",
        paid_fen=paid, decided_on=body.decided_on, note=body.note, transfer_ids=",".join(transfers),
        decided_by=principal.id, recorded_by_org=principal.organisation,
    )
    await repository.add(session, record)
    return claim_read(found, record, recoveries)


async def recover(session: AsyncSession, brief: BriefReads, funds: Funds, principal: Principal, claim_id: str,
                  body: CompensationRecoveryCreate) -> CompensationRecoveryRead:
    """L9: principal recovered on a compensated loan (at most the principal claimed lost, in all); the fund's share
    of it goes back from the bank's account to the fund's in the funds ledger."""
    async with brief() as reads:
        found, fund, decision, recoveries = await _claim_and_fund(reads, principal, claim_id)
        loan = await repository.get_loan(reads, principal, found.loan_id)
        reads.expunge_all()  # kept as read: the brief session's rollback would expire them
    risk_rules.check_lending_branch(principal, loan.responsible_org, loan.id)
    if decision is None or decision.decision != "approved":
        raise problems.claim_not_approved(found.id)
    if body.recovered_on < decision.decided_on:
        raise problems.dated_before("recovered_on", "代偿日期", "the compensation's date")
    before = sum(r.amount_fen for r in recoveries)
    returned = risk_rules.returned_for(recovered_before_fen=before, amount_fen=body.amount_fen,
                                       lost_fen=found.principal_lost_fen, share_bp=fund.fund_share_bp)
    recovery_id = risk_rules.recovery_id_of(found.id, len(recoveries) + 1)
    transfers: list[str] = []
    if returned > 0:
        moved = await funds.move_risk_money(_move("return", recovery_id, fund, returned, fund.agreement_no,
                                                  body.recovered_on.isoformat()))
        transfers = list(moved["transfer_ids"])
    await repository.lock_named(session, f"claim:{found.id}")
    if len(await repository.recoveries_of(session, found)) != len(recoveries):
        raise problems.recovery_raced(found.id)
    record = Recovery(
        county_code=found.county_code, id=recovery_id, claim_id=found.id, amount_fen=body.amount_fen,
        returned_fen=returned, recovered_on=body.recovered_on, transfer_ids=",".join(transfers),
        created_by=principal.id,
    )
    await repository.add(session, record)
    return recovery_read(record)


async def read_claim(session: AsyncSession, principal: Principal, claim_id: str) -> ClaimRead:
    found, _fund, decision, recoveries = await _claim_and_fund(session, principal, claim_id)
    return claim_read(found, decision, recoveries)


def recovery_read(record: Recovery) -> CompensationRecoveryRead:
    return CompensationRecoveryRead(id=record.id, claim_id=record.claim_id, amount_fen=record.amount_fen,
                        returned_fen=record.returned_fen, recovered_on=record.recovered_on,
                        transfer_ids=[t for t in record.transfer_ids.split(",") if t])


def claim_read(found: CompensationClaim, decision: ClaimDecision | None, recoveries: list[Recovery]) -> ClaimRead:
    decided = None if decision is None else DecisionRead(
        decision="approved" if decision.decision == "approved" else "rejected", paid_fen=decision.paid_fen,
        decided_on=decision.decided_on, note=decision.note, decided_by=decision.decided_by,
        transfer_ids=[t for t in decision.transfer_ids.split(",") if t],
    )
    return ClaimRead(
        id=found.id, fund_id=found.fund_id, loan_id=found.loan_id, county_code=found.county_code,
        principal_lost_fen=found.principal_lost_fen, outstanding_fen=found.outstanding_fen,
        days_overdue=found.days_overdue, claimed_on=found.claimed_on, reason=found.reason,
        created_by=found.created_by, status="pending" if decided is None else decided.decision,
        decision=decided, recoveries=[recovery_read(r) for r in recoveries],
    )

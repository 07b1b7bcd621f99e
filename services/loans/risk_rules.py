"""The risk-compensation fund's rules (issue #18: L7 capacity, L8 claims, L9 decisions and recoveries, L10
depletion) as pure functions: no database, no network, unit-tested on their own (tests/loans/test_risk_rules.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date

from services.kernel.identity import Principal
from services.loans import problems
from services.loans.rules import round_half_up

BASIS = 10_000  # basis points of a share: 7000 = 70 %


def fund_id_of(county_code: str, bank_name: str) -> str:
    """A fund's id, from what makes it one (a county and a bank, L7): the same setting-up asked again names the
    same fund, and so the same move in the funds ledger (which moves nothing twice)."""
    return f"rf_{county_code}_{hashlib.sha256(bank_name.encode()).hexdigest()[:16]}"


def payment_id_of(claim_id: str) -> str:
    """The funds ledger's record of a claim's compensation (one per claim: L9)."""
    return f"{claim_id}:paid"


def recovery_id_of(claim_id: str, number: int) -> str:
    """The n-th recovery of a claim (1, 2, …): its record here and its return's in the funds ledger."""
    return f"{claim_id}:r{number}"


def capacity_of(deposit_fen: int, leverage: int) -> int:
    """L7: the bank's poverty loans the fund backs, deposit × leverage multiple (放大倍数)."""
    return deposit_fen * leverage


def check_capacity(*, used_fen: int, amount_fen: int, deposit_fen: int, leverage: int, fund_id: str) -> None:
    """L7: the bank's outstanding poverty loans in the county, this one included, stay within deposit × leverage."""
    capacity = capacity_of(deposit_fen, leverage)
    if used_fen + amount_fen > capacity:
        raise problems.capacity_exceeded(used_fen=used_fen, amount_fen=amount_fen, capacity_fen=capacity,
                                         fund_id=fund_id)


def days_overdue(maturity_in_force: date, on: date) -> int:
    """Days past the maturity in force (extension included) on a day; 0 or less when not past it."""
    return (on - maturity_in_force).days


def check_overdue_beyond(days: int, threshold_days: int) -> None:
    """L8: a bank claims only for a loan overdue more than the fund's threshold (e.g. 90 days) on the claim's date."""
    if days <= threshold_days:
        raise problems.claim_not_overdue(max(days, 0), threshold_days)


def check_lending_branch(principal: Principal, responsible_org: str | None, loan_id: str) -> None:
    """L8, L9 with O13: a bank claims, and records recoveries, only on the loans its own branch answers for (a
    lender of an organisation; finance acts for the county whatever the branch, and a loan recorded before
    organisations answers to no branch)."""
    if principal.role == "lender" and principal.organisation and responsible_org not in (None, principal.organisation):
        raise problems.loan_of_another_branch(loan_id)


def check_not_misused(open_alert_types: Iterable[str]) -> None:
    """L8: not a loan with an open LOAN_ENTERPRISE_USE or LOAN_NON_PRODUCTIVE_USE alert (used against L2)."""
    found = sorted(set(open_alert_types))
    if found:
        raise problems.claim_loan_misused(found)


def check_claim_within(*, principal_lost_fen: int, outstanding_fen: int, claimed_fen: int) -> None:
    """L8: what is claimed, with what other claims not rejected claim already, stays within the principal
    outstanding (a loss is claimed once)."""
    claimable = max(outstanding_fen - claimed_fen, 0)
    if principal_lost_fen > claimable:
        raise problems.claim_over_outstanding(principal_lost_fen, claimable)


def share_of(amount_fen: int, share_bp: int) -> int:
    """L9: the fund's share of an amount, rounded once, half up, to the fen (70/30: 7000 bp)."""
    return round_half_up(amount_fen * share_bp, BASIS)


def check_not_self_decided(recorded_by: str, deciding: str) -> None:
    """L9: two people: the one who decides a claim is not the one who recorded it."""
    if recorded_by == deciding:
        raise problems.self_approval()


def returned_for(*, recovered_before_fen: int, amount_fen: int, lost_fen: int, share_bp: int) -> int:
    """L9: the fund's share of a recovery, returned to it: the share of everything recovered so far less the share
    of what was recovered before, so the returns never add up to more than the compensation paid (rounding)."""
    total = recovered_before_fen + amount_fen
    if total > lost_fen:
        raise problems.recovery_over_lost(total, lost_fen)
    return share_of(total, share_bp) - share_of(recovered_before_fen, share_bp)


def depleted(*, paid_fen: int, returned_fen: int, deposit_fen: int, depleted_share_bp: int) -> bool:
    """L10: the fund has lost (compensations paid less the shares of recoveries returned) more than the declared
    share of its deposit."""
    return (paid_fen - returned_fen) * BASIS > deposit_fen * depleted_share_bp

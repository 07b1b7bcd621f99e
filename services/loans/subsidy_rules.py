"""Subsidy settlement (issue #18 point 3) as pure functions: L11 the declared rates, L12 a claim's loans (L6 day by
day, the excluded days listed), L13 who decides. No database, no network (tests/loans/test_subsidy_rules.py).

L6 (DOMAIN.md): the subsidy of a day is the principal outstanding at its end × rate / 360; a loan that is overdue, or
used against the rules, loses it. L12 reads "used against the rules" as the days under misuse: from the first usage
report that breaks L2 (the day the misuse is on record, what raises LOAN_ENTERPRISE_USE / LOAN_NON_PRODUCTIVE_USE)
until the day the last such alert of the loan was resolved (the subsidy resumes from then), or for good while one is
not resolved. This is `rules.subsidy_of`'s figure (GET /loans/{id}/subsidy) with the resolution taken into account.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from services.kernel.identity import Principal
from services.loans import codes, problems
from services.loans.rules import round_half_up

OVERDUE, MISUSE = "overdue", "misuse"


@dataclass(frozen=True)
class Period:
    period_from: date
    period_to: date  # not counted

    def overlaps(self, other: Period) -> bool:
        return self.period_from < other.period_to and other.period_from < self.period_to


@dataclass(frozen=True)
class DeclaredRate:
    period: Period
    rate_bp: int
    paid_to: str
    fund_source: str


def check_rate_does_not_overlap(county_code: str, new: Period, declared: Iterable[Period]) -> None:
    """L11: one rate for a day of a county: a declaration does not overlap an earlier one (nothing is edited)."""
    if any(new.overlaps(p) for p in declared):
        raise problems.subsidy_rate_overlap(county_code, new.period_from, new.period_to)


def rate_for(county_code: str, claimed: Period, declared: Iterable[DeclaredRate]) -> DeclaredRate:
    """L11: the declared rate whose period covers the whole claimed one (a claim spans one rate)."""
    for rate in declared:
        if rate.period.period_from <= claimed.period_from and claimed.period_to <= rate.period.period_to:
            return rate
    raise problems.subsidy_rate_not_declared(county_code, claimed.period_from, claimed.period_to)


def check_claimable_period(claimed: Period, today: date) -> None:
    """L12: a period of at most a year (usually a quarter), claimed once it has ended (its `to` day is not counted:
    a quarter [01-01, 04-01) is claimable from 04-01)."""
    days = (claimed.period_to - claimed.period_from).days
    if days > codes.SUBSIDY_MAX_PERIOD_DAYS:
        raise problems.subsidy_period_too_long(days)
    if claimed.period_to > today:
        raise problems.subsidy_period_not_over(claimed.period_to)


def check_not_claimed(earlier: Sequence[tuple[str, str]]) -> None:
    """L12: a loan's period is claimed once: `earlier` are the (loan, claim) of its lines that overlap the period in
    claims not rejected. Checked under the county's lock, so two claims at once cannot both pass."""
    if earlier:
        loans = sorted({loan for loan, _ in earlier})
        claims = sorted({claim for _, claim in earlier})
        raise problems.subsidy_already_claimed(loans, claims)


@dataclass(frozen=True)
class LoanFacts:
    """What L6 needs of a loan: its amount and dates, its principal repayments, its stretches of misuse."""

    amount_fen: int
    issued_on: date
    maturity_in_force: date
    repayments: Sequence[tuple[date, int]]  # (paid_on, principal_fen)
    misuse: Sequence[tuple[date, date | None]] = ()  # [from, until): until None while an alert is open


@dataclass
class ClaimLine:
    days: int
    subsidised_days: int = 0
    overdue_days: int = 0
    misuse_days: int = 0
    principal_fen_days: int = 0
    subsidy_fen: int = 0
    excluded: list[dict[str, Any]] = field(default_factory=list)


def _excluded_reason(facts: LoanFacts, day: date) -> str | None:
    if day > facts.maturity_in_force:
        return OVERDUE
    if any(start <= day and (until is None or day < until) for start, until in facts.misuse):
        return MISUSE
    return None


def _stretch(line: ClaimLine, reason: str, day: date) -> None:
    """Add `day` to the excluded stretches: the last one grows if it has the same reason and ends the day before."""
    last = line.excluded[-1] if line.excluded else None
    if last is not None and last["reason"] == reason and last["to"] == day.isoformat():
        last["to"] = (day + timedelta(days=1)).isoformat()
        last["days"] += 1
    else:
        line.excluded.append({"reason": reason, "from": day.isoformat(),
                              "to": (day + timedelta(days=1)).isoformat(), "days": 1})


def claim_line(facts: LoanFacts, claimed: Period, rate_bp: int) -> ClaimLine:
    """L6/L12, day by day over [from, to): a day with principal outstanding at its end (repayments dated on or before
    it deducted) earns principal × rate / 360, unless the loan is overdue then (after the maturity in force) or
    under misuse; those days are listed as stretches [from, to) with their reason (overdue first). Days before the
    issue day, or after the last principal was repaid, earn nothing and are not excluded. Rounded once per loan,
    half up, to the fen (as `rules.subsidy_of`)."""
    line = ClaimLine(days=(claimed.period_to - claimed.period_from).days)
    schedule = sorted(facts.repayments)
    day = max(claimed.period_from, facts.issued_on)
    repaid = sum(p for paid_on, p in schedule if paid_on < day)
    upcoming = [(paid_on, p) for paid_on, p in schedule if paid_on >= day]
    while day < claimed.period_to:
        while upcoming and upcoming[0][0] <= day:
            repaid += upcoming.pop(0)[1]
        principal = facts.amount_fen - repaid
        if principal <= 0:
            break
        reason = _excluded_reason(facts, day)
        if reason is None:
            line.subsidised_days += 1
            line.principal_fen_days += principal
        else:
            _stretch(line, reason, day)
            if reason == OVERDUE:
                line.overdue_days += 1
            else:
                line.misuse_days += 1
        day += timedelta(days=1)
    line.subsidy_fen = round_half_up(line.principal_fen_days * rate_bp, 10000 * 360)
    return line


def check_decision(*, decision: str, principal: Principal, submitted_by: str, checked_by: str | None,
                   decided: str | None, claim_id: str) -> None:
    """L13: a claim is checked by one person of finance, then approved (or rejected) by another; neither is its
    submitter. A rejection may come at either step; a claim decided (approved or rejected) is decided for good."""
    if decided is not None:
        raise problems.subsidy_claim_decided(claim_id, decided)
    if principal.id == submitted_by:
        raise problems.subsidy_same_person("提交人不能审核 / its submitter may not check or approve it")
    if decision == "checked" and checked_by is not None:
        raise problems.subsidy_claim_decided(claim_id, "checked")
    if decision == "approved":
        if checked_by is None:
            raise problems.subsidy_not_checked(claim_id)
        if principal.id == checked_by:
            raise problems.subsidy_same_person("初审人不能批准 / the person who checked it may not approve it")


def payees(paid_to: str, bank_id: str, lines: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    """L13: whom the county pays (L11): the bank the claim's total, or each household its loans' subsidy; payees
    owed nothing are left out."""
    totals: dict[str, int] = {}
    for household_id, subsidy_fen in lines:
        key = bank_id if paid_to == "bank" else household_id
        totals[key] = totals.get(key, 0) + subsidy_fen
    return sorted((payee, fen) for payee, fen in totals.items() if fen > 0)

"""The loan rules of DOMAIN.md (L1–L6) as pure functions: no database, no network, unit-tested on their own.

Origination checks the rules in this order, and answers with the first that refuses:
  1. L1a the borrower is 18–65 on the issue date (by the birth date in the number given)  (BORROWER_NOT_ELIGIBLE)
  2. L2a the money goes to the borrower's own account (or, in the cooperative mode, to a farmers' cooperative, L3)
     -- then L15 the cooperative mode's agreement, L16 the partnership mode's partners named (records_rules) --
  3. L2b productive purpose, 4. L2c rate ≤ benchmark and no fees, 5. L2d no collateral or guarantee,
  6. L2e the product's name is 扶贫小额信贷, or an official name of the household's province (L18, records_rules)
  7. L4  amount ≤ 50,000 元, 8. L4 term ≤ 36 months
  9. L1  the household is on the roster                                              (BORROWER_NOT_REGISTERED)
     -- the service then checks jurisdiction on the household's county (403) --
 10. L1  on the issue date, as the registry judges the household: on the roster then    (BORROWER_NOT_REGISTERED),
         eligible then (poor/exited/returned, no village cadre)                          (BORROWER_NOT_ELIGIBLE)
10b. L16 each partner household on the roster on the issue date (records_rules)        (PARTNER_NOT_REGISTERED)
 11. L4  the household's outstanding principal with this loan ≤ 50,000 元 (it needs a lock and the database)
 12. L1  the borrower is the household's head                                         (BORROWER_NOT_REGISTERED)
The head's identity number is compared last (S6, A5): the lender sees it masked, and an answer that differed
between a right and a wrong number while another rule refused would let it try the ~2,000 numbers that fit the mask
one by one. Compared last, a right number is told apart only by the loan being made (recorded, and audited), and
the refusals of wrong ones are counted and limited (codes.BORROWER_CHECKS). Within the contract the five
prohibitions come in DOMAIN.md's order, then the caps. Schema errors (422 VALIDATION_ERROR) come before all of them.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from services.kernel.types import birth_date_of, is_cooperative
from services.loans import codes, problems


@dataclass(frozen=True)
class Household:
    """What the registry says about a household (its internal API)."""

    household_id: str
    head_id_number: str
    head_name: str
    county_code: str
    village_code: str
    status: str
    members: int
    village_cadre: bool
    card_account: str


@dataclass(frozen=True)
class Eligibility:
    """The registry's judgement of a household on a date (its internal API, the one definition of L1, P3, F10):
    every reason it may not receive poverty support then, empty when it may."""

    household_id: str
    reasons: tuple[str, ...]
    status: str | None
    village_cadre: bool | None


def check_household_registered(household: Household | None, household_id: str) -> Household:
    """L1: the household is on the registration roster (建档立卡)."""
    if household is None:
        raise problems.household_not_registered(household_id)
    return household


def check_borrower_is_head(household: Household, borrower_id_number: str) -> None:
    """L1: the borrower is the head of the household (checked last: see the module's docstring, S6)."""
    if household.head_id_number.upper() != borrower_id_number.upper():
        raise problems.borrower_not_head()


def age_on(birth: date, day: date) -> int:
    """Whole years completed on `day` (someone born on 29 February comes of age on 1 March)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def check_borrower_age(borrower_id_number: str, issued_on: date) -> None:
    """L1a: 18 to 65 years old on the issue date (the birth date is the one in the number given)."""
    age = age_on(birth_date_of(borrower_id_number), issued_on)
    if not codes.MIN_AGE <= age <= codes.MAX_AGE:
        raise problems.borrower_age(age)


def check_household_eligible(eligibility: Eligibility, issued_on: date) -> None:
    """L1 on the issue date, as the registry judged the household on it: on the roster (建档立卡) then, and poor,
    exited (脱贫不脱政策) or returned, with no sitting village cadre."""
    household_id = eligibility.household_id
    if codes.REGISTRY_NOT_REGISTERED in eligibility.reasons:
        raise problems.not_registered_on(household_id, issued_on)
    if codes.REGISTRY_NOT_POOR in eligibility.reasons:
        raise problems.not_poor_on(issued_on, eligibility.status)
    if codes.REGISTRY_VILLAGE_CADRE in eligibility.reasons:
        raise problems.village_cadre_on(issued_on)


def check_disbursement_account(
    *, borrower_id_number: str, mode: str, holder_id_number: str | None, holder_uscc: str | None,
    cooperative_uscc: str | None,
) -> str | None:
    """L2a (户贷企用) and L3: the loan is paid into the borrower's own account; only in the cooperative mode may it
    reach an organisation, and then only a farmers' cooperative (`93…`). Returns the cooperative to record."""
    if holder_id_number is not None and holder_id_number.upper() != borrower_id_number.upper():
        raise problems.account_not_borrowers()
    if mode != "cooperative":
        if holder_uscc is not None:
            raise problems.paid_to_organisation()
        if cooperative_uscc is not None:
            raise problems.cooperative_outside_mode()
        return None
    cooperative = cooperative_uscc or holder_uscc
    if cooperative is None:
        raise problems.cooperative_not_named()
    if not is_cooperative(cooperative):
        raise problems.not_a_cooperative()
    if holder_uscc is not None and holder_uscc != cooperative:
        raise problems.account_of_another_organisation()
    return cooperative


def check_productive_purpose(purpose: str) -> None:
    """L2b: no house building or buying, weddings and funerals, consumption, debt repayment, enterprise investment."""
    if purpose in codes.NON_PRODUCTIVE_PURPOSES:
        raise problems.non_productive_purpose(purpose)


@dataclass(frozen=True)
class BenchmarkPeriod:
    since: date
    until: date  # inclusive
    up_to_one_year_bp: int
    one_to_three_years_bp: int


# The People's Bank of China's benchmark lending rates that DOMAIN.md gives (L6): 4.35 % up to one year, 4.75 % for
# one to three years, in force from 2015-10-24 until loans were priced on the LPR (2019-08-20). Outside this period
# the rate the lender declares is taken as the benchmark (the LPR series is not held here).
BENCHMARK_PERIODS = (BenchmarkPeriod(date(2015, 10, 24), date(2019, 8, 19), 435, 475),)


def official_benchmark_bp(issued_on: date, term_months: int) -> int | None:
    """L2c: the benchmark lending rate for a loan of this term issued on this day, where it is known."""
    for period in BENCHMARK_PERIODS:
        if period.since <= issued_on <= period.until:
            return period.up_to_one_year_bp if term_months <= 12 else period.one_to_three_years_bp
    return None


def check_rate_at_benchmark(annual_rate_bp: int, benchmark_rate_bp: int, fees_fen: int, *, issued_on: date,
                            term_months: int) -> None:
    """L2c: priced at the benchmark rate, neither above it nor covertly through fees, nor by declaring a benchmark
    higher than the official one of the issue date and term (where it is known: BENCHMARK_PERIODS)."""
    official = official_benchmark_bp(issued_on, term_months)
    if official is not None and benchmark_rate_bp > official:
        raise problems.benchmark_above_official(benchmark_rate_bp, official, issued_on=issued_on,
                                                term_months=term_months)
    if annual_rate_bp > benchmark_rate_bp:
        raise problems.rate_above_benchmark(annual_rate_bp, benchmark_rate_bp)
    if fees_fen > 0:
        raise problems.fees_charged(fees_fen)


def check_no_collateral(collateral_required: bool, guarantee_required: bool) -> None:
    """L2d: 免担保免抵押, neither collateral nor a guarantee."""
    if collateral_required or guarantee_required:
        field = "collateral_required" if collateral_required else "guarantee_required"
        raise problems.collateral_required(field)


def check_amount_cap(amount_fen: int) -> None:
    """L4: at most 50,000 元 (5,000,000 fen)."""
    if amount_fen > codes.AMOUNT_CAP_FEN:
        raise problems.amount_over_cap(amount_fen)


def check_term_cap(term_months: int) -> None:
    """L4: at most 3 years (36 months)."""
    if term_months > codes.TERM_CAP_MONTHS:
        raise problems.term_over_cap(term_months)


def check_household_cap(outstanding_fen: int, amount_fen: int) -> None:
    """L4: one household's outstanding principal across its loans, this one included, stays within the amount cap."""
    if outstanding_fen + amount_fen > codes.AMOUNT_CAP_FEN:
        raise problems.household_over_cap(outstanding_fen, amount_fen)


def add_months(day: date, months: int) -> date:
    """Calendar months, the day clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def maturity_of(issued_on: date, term_months: int) -> date:
    return add_months(issued_on, term_months)


def check_repayment(outstanding_fen: int, principal_fen: int, *, issued_on: date, paid_on: date) -> None:
    """Never more principal repaid than is outstanding; nothing repaid before the loan was issued."""
    if paid_on < issued_on:
        raise problems.repayment_before_issue()
    if principal_fen > outstanding_fen:
        raise problems.repayment_over_outstanding(principal_fen, outstanding_fen)


def check_extension(original_maturity: date, new_maturity: date) -> None:
    """L5: an extension (展期) moves maturity later, by at most 12 months beyond the original maturity."""
    if new_maturity <= original_maturity:
        raise problems.extension_not_later()
    if new_maturity > add_months(original_maturity, codes.EXTENSION_CAP_MONTHS):
        raise problems.extension_too_long()


def usage_breaks_enterprise_rule(recipient_kind: str, mode: str) -> bool:
    """L2a/L3: money reaching an enterprise, or a cooperative outside the cooperative mode."""
    return recipient_kind == "enterprise" or (recipient_kind == "cooperative" and mode != "cooperative")


def usage_breaks_purpose_rule(purpose: str) -> bool:
    """L2b: a non-productive use."""
    return purpose in codes.NON_PRODUCTIVE_PURPOSES


def status_of(outstanding_fen: int, as_of: date, maturity_on: date, extended_to: date | None) -> str:
    """L5: repaid (nothing outstanding), overdue (past the maturity in force), extended, or active."""
    if outstanding_fen == 0:
        return "repaid"
    if as_of > (extended_to or maturity_on):
        return "overdue"
    return "extended" if extended_to is not None else "active"


def bucket_of(days_past_due: int) -> str:
    """L5 buckets: 1–30, 31–90, 91–180, over 180 days past due."""
    if days_past_due <= 30:
        return "1-30"
    if days_past_due <= 90:
        return "31-90"
    if days_past_due <= 180:
        return "91-180"
    return "180+"


@dataclass(frozen=True)
class Subsidy:
    days: int  # to − from
    subsidised_days: int  # days that earned a subsidy on a positive principal
    overdue_days: int  # days in the period the loan was overdue (no subsidy)
    principal_fen_days: int  # Σ principal outstanding over the subsidised days
    subsidy_fen: int


def round_half_up(numerator: int, denominator: int) -> int:
    return (numerator * 2 + denominator) // (denominator * 2)


def subsidy_of(
    *, amount_fen: int, issued_on: date, maturity_in_force: date, repayments: Iterable[tuple[date, int]],
    misuse_from: date | None, period_from: date, period_to: date, rate_bp: int,
) -> Subsidy:
    """L6: Σ over days d in [from, to) of principal(d) × rate_bp / 10000 / 360, rounded once, half up, to the fen.

    principal(d) is the principal outstanding at the end of day d: the amount less every repayment dated on or
    before d (the issue day earns interest, a repayment's day does not earn it on the part repaid: 算头不算尾).
    No subsidy before the issue day, on a day the loan is overdue (after the maturity in force, extension included,
    with principal outstanding), nor on or after the first usage report that breaks L2 (`misuse_from`).
    """
    schedule = sorted(repayments)
    repaid_by_end = _repaid_day(amount_fen, schedule)
    start = max(period_from, issued_on)
    end = min(period_to, maturity_in_force + timedelta(days=1), misuse_from or period_to)
    total = 0
    if end > start:
        balance = amount_fen - sum(p for day, p in schedule if day <= start)
        cursor = start
        for day, principal in schedule:
            if start < day < end:
                total += balance * (day - cursor).days
                balance -= principal
                cursor = day
        total += balance * (end - cursor).days
    positive_until = min(end, repaid_by_end) if repaid_by_end else end
    overdue_from = max(period_from, issued_on, maturity_in_force + timedelta(days=1))
    overdue_until = min(period_to, repaid_by_end) if repaid_by_end else period_to
    return Subsidy(
        days=(period_to - period_from).days,
        subsidised_days=max(0, (positive_until - start).days),
        overdue_days=max(0, (overdue_until - overdue_from).days),
        principal_fen_days=total,
        subsidy_fen=round_half_up(total * rate_bp, 10000 * 360),
    )


# L6a: the longest period whose figure is kept (a claim's is at most a year, L12)
KEPT_PERIOD_MONTHS = 12
# L6a: how far back a kept period may start (claims, and the inspections of them, look a few years back), and how
# many rates of one county's period are kept (a claim's declared rate and a few asked beside it): what bounds the
# kept figures to a few thousand a county, whatever readers ask
KEPT_YEARS_BACK = 10
KEPT_RATES = 4


def subsidy_is_kept(period_from: date, period_to: date, database_today: date) -> bool:
    """L6a: a report's per-county figures are kept for a calendar period (from and to the first of a month, at
    most a year apart: the months, quarters, halves and years claims use) that closed at least a day before the
    database's today (the day the triggers compare with, so a writer that began before midnight is covered) and
    began at most KEPT_YEARS_BACK years before it. Others are computed each time: no caller fills the table with
    arbitrary periods."""
    months = (period_to.year - period_from.year) * 12 + period_to.month - period_from.month
    return (period_from.day == 1 and period_to.day == 1 and 0 < months <= KEPT_PERIOD_MONTHS
            and period_to <= database_today - timedelta(days=1)
            and period_from >= add_months(database_today, -12 * KEPT_YEARS_BACK))


def _repaid_day(amount_fen: int, schedule: list[tuple[date, int]]) -> date | None:
    """The day the last of the principal was repaid (from then on nothing is outstanding), if it was."""
    repaid = 0
    for day, principal in schedule:
        repaid += principal
        if repaid >= amount_fen:
            return day
    return None


def responsible_org(*, lender_org: str | None) -> str | None:
    """O13 (issue #16): the lending branch answers for a loan: the organisation of the lender principal that records
    it (a bank branch's key is issued into the branch). None only for a principal the gateway gave no organisation,
    which O1 leaves to none but the services' own identity."""
    return lender_org


def lending_branch(orgs: Sequence[str | None]) -> str | None:
    """O13: the organisation an alert about several loans names (INELIGIBLE_BORROWER: a household's loans owing;
    LOAN_FUNDS_CONCENTRATION: the loans that reached one enterprise): their lending branch when they have one, none
    when they were lent by several branches (the alert's facts list them: `lending_orgs`) or before organisations."""
    named = {o for o in orgs if o}
    return named.pop() if len(named) == 1 else None

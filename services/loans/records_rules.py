"""Issue #18's loan rules as pure functions (docs/rules.md "Loan records", L14–L19): renewals and extensions'
dates, the 一自两合 records, the provinces' product names. No database, no network; unit-tested on their own."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from services.loans import codes, problems
from services.loans.rules import Eligibility, add_months


def province_of(county_code: str) -> str:
    return county_code[:2] + "0000"


def official_names(province_code: str, registered: Iterable[str]) -> tuple[str, ...]:
    """L18: the names the product may be sold under in a province: the national one, the seeds' names of that
    province (codes.SEED_PRODUCT_NAMES) and the ones it registered."""
    names = [codes.PRODUCT_NAME, *codes.SEED_PRODUCT_NAMES.get(province_code, ()), *sorted(registered)]
    return tuple(dict.fromkeys(names))


def check_product_name(product_name: str, official: Sequence[str]) -> None:
    """L2e as L18 reads it: the product is not renamed at will, its name is one of the province's official ones."""
    if product_name not in official:
        raise problems.product_renamed(official)


@dataclass(frozen=True)
class OldLoan:
    """What a renewal needs of the loan it renews."""

    loan_id: str
    household_id: str
    issued_on: date
    amount_fen: int
    renewed: bool


def check_renewal(old: OldLoan, *, household_id: str, issued_on: date, repaid_by_issue_fen: int) -> None:
    """L14: a renewal (续贷) is lent to the old loan's household, after the old loan, which it renews once
    (codes.RENEWAL_LIMIT), and which is fully repaid on the new loan's issue date (repayments dated on or before)."""
    if old.renewed:
        raise problems.renewal_exists(old.loan_id)
    if household_id != old.household_id:
        raise problems.renewal_other_household(old.household_id)
    if issued_on <= old.issued_on:
        raise problems.renewal_not_later(old.issued_on)
    if repaid_by_issue_fen < old.amount_fen:
        raise problems.renewal_old_loan_outstanding(old.amount_fen - repaid_by_issue_fen, issued_on)


def check_extension_date(issued_on: date, extended_on: date) -> None:
    """L14: an extension is dated (extended_on), on or after the issue date."""
    if extended_on < issued_on:
        raise problems.extension_before_issue()


@dataclass(frozen=True)
class AgreementTerms:
    signed_on: date
    cooperative_uscc: str


def check_agreement(mode: str, agreement: AgreementTerms | None, *, cooperative_uscc: str | None,
                    issued_on: date) -> None:
    """L15 (L3's "with the household's agreement recorded"): a cooperative-mode loan carries the household's
    entrustment agreement with the loan's cooperative, signed on or before the issue date."""
    if mode != "cooperative":
        return
    if agreement is None:
        raise problems.agreement_missing()
    if agreement.cooperative_uscc != cooperative_uscc:
        raise problems.agreement_of_another_cooperative()
    if agreement.signed_on > issued_on:
        raise problems.agreement_after_issue()


def check_partners_named(mode: str, partners: Sequence[str], household_id: str) -> None:
    """L16: a partnership-mode loan names its partner households, other than the borrower's."""
    if mode != "partnership":
        return
    if not partners:
        raise problems.partners_missing()
    for index, partner in enumerate(partners):
        if partner == household_id:
            raise problems.partner_is_borrower(index)


def check_partners_registered(partners: Sequence[str], judged: Mapping[str, Eligibility], issued_on: date) -> None:
    """L16: each partner household is on the roster on the issue date, as the registry judges it (L1's question)."""
    for index, partner in enumerate(partners):
        eligibility = judged.get(partner)
        if eligibility is None or codes.REGISTRY_NOT_REGISTERED in eligibility.reasons:
            raise problems.partner_not_registered(index, partner, issued_on)


def check_return(mode: str, *, issued_on: date, paid_on: date) -> None:
    """L17: returns to the household are recorded on cooperative-mode loans, from the issue date on."""
    if mode != "cooperative":
        raise problems.loan_not_cooperative(mode)
    if paid_on < issued_on:
        raise problems.return_before_issue()


def no_return_since(as_of: date) -> date:
    """L17: a cooperative-mode household that received nothing after this day (12 months before as_of) alerts."""
    return add_months(as_of, -codes.NO_RETURN_MONTHS)

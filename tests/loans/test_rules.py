"""The loan rules (L1–L6) as pure functions, each on both sides."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from services.kernel.errors import RuleViolation
from services.loans import codes, records_rules, rules
from tests.loans.helpers import credit_code, id_number

BORROWER = id_number("430523", date(1980, 5, 17))


def household(**overrides: object) -> rules.Household:
    base: dict[str, object] = dict(
        household_id="HH1", head_id_number=BORROWER, head_name="张三", county_code="430523",
        village_code="430523101001", status="poor", members=4, village_cadre=False, card_account="6230",
    )
    base.update(overrides)
    return rules.Household(**base)  # type: ignore[arg-type]


def judged(*reasons: str, status: str | None = "poor", cadre: bool | None = False) -> rules.Eligibility:
    """The registry's answer on the issue date (the one definition of L1, P3, F10)."""
    return rules.Eligibility(household_id="HH1", reasons=reasons, status=status, village_cadre=cadre)


def refused(code: str, fn: object, *args: object, **kwargs: object) -> RuleViolation:
    with pytest.raises(RuleViolation) as info:
        fn(*args, **kwargs)  # type: ignore[operator]
    assert info.value.code == code
    return info.value


def test_registered_household_and_the_borrower_is_the_head() -> None:
    assert rules.check_household_registered(household(), "HH1").household_id == "HH1"
    v = refused(codes.BORROWER_NOT_REGISTERED, rules.check_household_registered, None, "HH1")
    assert v.field == "household_id"
    rules.check_borrower_is_head(household(), BORROWER.lower())
    other = id_number("430523", date(1981, 1, 1))
    violation = refused(codes.BORROWER_NOT_REGISTERED, rules.check_borrower_is_head, household(), other)
    assert violation.field == "borrower_id_number" and violation.rule == "L1"


def test_eligible_on_the_issue_date_as_the_registry_judged() -> None:
    rules.check_household_eligible(judged(), date(2018, 3, 1))
    rules.check_household_eligible(judged(status="exited"), date(2018, 3, 1))


def test_not_registered_not_poor_and_cadre_households_are_refused_with_their_codes() -> None:
    v = refused(codes.BORROWER_NOT_REGISTERED, rules.check_household_eligible,
                judged(codes.REGISTRY_NOT_REGISTERED, status=None, cadre=None), date(2018, 3, 1))
    assert (v.rule, v.field) == ("L1", "household_id") and "2018-03-01" in v.detail
    for reasons in ([codes.REGISTRY_NOT_POOR], [codes.REGISTRY_VILLAGE_CADRE],
                    [codes.REGISTRY_NOT_POOR, codes.REGISTRY_VILLAGE_CADRE]):
        v = refused(codes.BORROWER_NOT_ELIGIBLE, rules.check_household_eligible, judged(*reasons, status="not_poor"),
                    date(2018, 3, 1))
        assert (v.rule, v.field) == ("L1", "household_id"), reasons


def test_age_edges_18_and_65() -> None:
    born = date(2000, 3, 1)
    young = id_number("430523", born)
    rules.check_borrower_age(young, date(2018, 3, 1))  # 18 today
    v = refused(codes.BORROWER_NOT_ELIGIBLE, rules.check_borrower_age, young, date(2018, 2, 28))  # 17
    assert v.rule == "L1a"
    old = id_number("430523", date(1953, 3, 1))
    rules.check_borrower_age(old, date(2019, 2, 28))  # 65 and 364 days
    refused(codes.BORROWER_NOT_ELIGIBLE, rules.check_borrower_age, old, date(2019, 3, 1))  # 66
    assert rules.age_on(date(2000, 2, 29), date(2018, 2, 28)) == 17
    assert rules.age_on(date(2000, 2, 29), date(2018, 3, 1)) == 18


def account(**kw: object) -> dict[str, object]:
    base: dict[str, object] = dict(borrower_id_number=BORROWER, mode="self", holder_id_number=BORROWER,
                                   holder_uscc=None, cooperative_uscc=None)
    base.update(kw)
    return base


def test_disbursement_to_own_account_is_allowed() -> None:
    assert rules.check_disbursement_account(**account()) is None  # type: ignore[arg-type]
    assert rules.check_disbursement_account(**account(mode="partnership")) is None  # type: ignore[arg-type]


def test_disbursement_to_someone_else_or_an_organisation_is_refused() -> None:
    other = id_number("430523", date(1970, 1, 1))
    refused(codes.LOAN_ENTERPRISE_USE, rules.check_disbursement_account, **account(holder_id_number=other))
    company = credit_code("1")
    refused(codes.LOAN_ENTERPRISE_USE, rules.check_disbursement_account,
            **account(holder_id_number=None, holder_uscc=company))
    coop = credit_code("3")
    refused(codes.LOAN_ENTERPRISE_USE, rules.check_disbursement_account,
            **account(holder_id_number=None, holder_uscc=coop))  # a cooperative, but not the cooperative mode
    refused(codes.LOAN_ENTERPRISE_USE, rules.check_disbursement_account, **account(cooperative_uscc=coop))


def test_cooperative_mode_allows_only_a_farmers_cooperative() -> None:
    coop = credit_code("3")
    assert rules.check_disbursement_account(
        **account(mode="cooperative", holder_id_number=None, holder_uscc=coop)) == coop  # type: ignore[arg-type]
    assert rules.check_disbursement_account(
        **account(mode="cooperative", cooperative_uscc=coop)) == coop  # type: ignore[arg-type]
    refused(codes.LOAN_ENTERPRISE_USE, rules.check_disbursement_account,
            **account(mode="cooperative", holder_id_number=None, holder_uscc=credit_code("1")))
    refused(codes.LOAN_ENTERPRISE_USE, rules.check_disbursement_account, **account(mode="cooperative"))
    refused(codes.LOAN_ENTERPRISE_USE, rules.check_disbursement_account,
            **account(mode="cooperative", holder_id_number=None, holder_uscc=credit_code("3"), cooperative_uscc=coop))


@pytest.mark.parametrize("purpose", codes.PRODUCTIVE_PURPOSES)
def test_productive_purposes(purpose: str) -> None:
    rules.check_productive_purpose(purpose)


@pytest.mark.parametrize("purpose", codes.NON_PRODUCTIVE_PURPOSES)
def test_non_productive_purposes(purpose: str) -> None:
    refused(codes.LOAN_NON_PRODUCTIVE_PURPOSE, rules.check_productive_purpose, purpose)


def test_rate_fees_collateral_product() -> None:
    three_years: dict[str, Any] = {"issued_on": date(2018, 3, 1), "term_months": 36}
    rules.check_rate_at_benchmark(475, 475, 0, **three_years)
    refused(codes.LOAN_RATE_ABOVE_BENCHMARK, rules.check_rate_at_benchmark, 476, 475, 0, **three_years)
    assert refused(codes.LOAN_RATE_ABOVE_BENCHMARK, rules.check_rate_at_benchmark, 475, 475, 1,
                   **three_years).field == "fees_fen"
    rules.check_no_collateral(False, False)
    refused(codes.LOAN_COLLATERAL_REQUIRED, rules.check_no_collateral, True, False)
    refused(codes.LOAN_COLLATERAL_REQUIRED, rules.check_no_collateral, False, True)
    records_rules.check_product_name(codes.PRODUCT_NAME, (codes.PRODUCT_NAME,))
    refused(codes.LOAN_PRODUCT_RENAMED, records_rules.check_product_name, "惠农贷", (codes.PRODUCT_NAME,))


def test_caps() -> None:
    rules.check_amount_cap(5_000_000)
    refused(codes.LOAN_AMOUNT_OVER_CAP, rules.check_amount_cap, 5_000_001)
    rules.check_term_cap(36)
    refused(codes.LOAN_TERM_OVER_CAP, rules.check_term_cap, 37)
    rules.check_household_cap(2_000_000, 3_000_000)
    refused(codes.LOAN_HOUSEHOLD_CAP, rules.check_household_cap, 2_000_001, 3_000_000)


def test_maturity_clamps_to_month_end() -> None:
    assert rules.maturity_of(date(2018, 1, 31), 1) == date(2018, 2, 28)
    assert rules.maturity_of(date(2019, 11, 30), 3) == date(2020, 2, 29)
    assert rules.maturity_of(date(2018, 3, 1), 36) == date(2021, 3, 1)


def test_repayment_and_extension_rules() -> None:
    rules.check_repayment(100, 100, issued_on=date(2018, 1, 1), paid_on=date(2018, 1, 1))
    refused(codes.REPAYMENT_OVER_OUTSTANDING, rules.check_repayment, 100, 101, issued_on=date(2018, 1, 1),
            paid_on=date(2018, 2, 1))
    refused(codes.REPAYMENT_BEFORE_ISSUE, rules.check_repayment, 100, 1, issued_on=date(2018, 1, 1),
            paid_on=date(2017, 12, 31))
    rules.check_extension(date(2018, 1, 31), date(2019, 1, 31))
    refused(codes.EXTENSION_TOO_LONG, rules.check_extension, date(2018, 1, 31), date(2019, 2, 1))
    refused(codes.EXTENSION_NOT_LATER, rules.check_extension, date(2018, 1, 31), date(2018, 1, 31))


def test_usage_rules() -> None:
    assert rules.usage_breaks_enterprise_rule("enterprise", "cooperative")
    assert rules.usage_breaks_enterprise_rule("cooperative", "self")
    assert not rules.usage_breaks_enterprise_rule("cooperative", "cooperative")
    assert not rules.usage_breaks_enterprise_rule("household", "partnership")
    assert rules.usage_breaks_purpose_rule("consumption") and not rules.usage_breaks_purpose_rule("planting")


def test_status_and_buckets() -> None:
    m = date(2018, 6, 1)
    assert rules.status_of(0, date(2019, 1, 1), m, None) == "repaid"
    assert rules.status_of(5, m, m, None) == "active"
    assert rules.status_of(5, date(2018, 6, 2), m, None) == "overdue"
    assert rules.status_of(5, date(2018, 6, 2), m, date(2018, 12, 1)) == "extended"
    assert rules.status_of(5, date(2018, 12, 2), m, date(2018, 12, 1)) == "overdue"
    edges = {1: "1-30", 30: "1-30", 31: "31-90", 90: "31-90", 91: "91-180", 180: "91-180", 181: "180+"}
    assert {d: rules.bucket_of(d) for d in edges} == edges


def test_subsidy_by_hand_with_repayments_overdue_and_half_up_rounding() -> None:
    # 1,000,000 fen issued 2018-01-01 for 3 months (maturity 2018-04-01); 400,000 repaid 2018-02-01; the rest
    # overdue from 2018-04-02; period [2018-01-01, 2018-05-01) at 475 bp.
    #   2018-01-01..01-31: 31 days × 1,000,000 = 31,000,000 (the repayment's day earns nothing on the part repaid)
    #   2018-02-01..04-01: 60 days ×   600,000 = 36,000,000 (the maturity day is not overdue)
    #   2018-04-02..04-30: 29 overdue days, no subsidy
    #   67,000,000 × 475 / 10000 / 360 = 8840.277… → 8840 fen
    s = rules.subsidy_of(amount_fen=1_000_000, issued_on=date(2018, 1, 1), maturity_in_force=date(2018, 4, 1),
                         repayments=[(date(2018, 2, 1), 400_000)], misuse_from=None, period_from=date(2018, 1, 1),
                         period_to=date(2018, 5, 1), rate_bp=475)
    assert (s.days, s.principal_fen_days, s.subsidy_fen, s.overdue_days, s.subsidised_days) == (
        120, 67_000_000, 8840, 29, 91)
    # Half up: 1 day × 39,600 fen × 500 bp / (10000 × 360) = 5.5 → 6
    half = rules.subsidy_of(amount_fen=39_600, issued_on=date(2018, 1, 1), maturity_in_force=date(2019, 1, 1),
                            repayments=[], misuse_from=None, period_from=date(2018, 1, 1), period_to=date(2018, 1, 2),
                            rate_bp=500)
    assert half.principal_fen_days == 39_600 and half.subsidy_fen == 6  # 5.5 rounds up
    assert rules.round_half_up(17_999_999, 3_600_000) == 5 and rules.round_half_up(18_000_000, 3_600_000) == 5


def test_subsidy_stops_on_the_day_of_a_rule_breaking_usage_report() -> None:
    s = rules.subsidy_of(amount_fen=1_000_000, issued_on=date(2018, 1, 1), maturity_in_force=date(2019, 1, 1),
                         repayments=[], misuse_from=date(2018, 1, 11), period_from=date(2017, 12, 1),
                         period_to=date(2018, 2, 1), rate_bp=3600)
    assert s.principal_fen_days == 10 * 1_000_000 and s.subsidy_fen == 10_000  # 10 days × 1,000,000 × 0.36 / 360


def test_subsidy_of_a_repaid_loan_is_zero_after_repayment() -> None:
    s = rules.subsidy_of(amount_fen=100, issued_on=date(2018, 1, 1), maturity_in_force=date(2018, 2, 1),
                         repayments=[(date(2018, 1, 5), 100)], misuse_from=None, period_from=date(2018, 1, 1),
                         period_to=date(2018, 6, 1), rate_bp=475)
    assert s.principal_fen_days == 400 and s.overdue_days == 0 and s.subsidised_days == 4


@pytest.mark.parametrize(
    ("issued_on", "term_months", "official"),
    [
        (date(2015, 10, 24), 12, 435), (date(2015, 10, 24), 13, 475), (date(2019, 8, 19), 1, 435),
        (date(2018, 3, 1), 36, 475),
        (date(2015, 10, 23), 12, None), (date(2019, 8, 20), 36, None),  # outside the period DOMAIN gives (L6)
    ],
)
def test_official_benchmark_by_issue_date_and_term(issued_on: date, term_months: int, official: int | None) -> None:
    assert rules.official_benchmark_bp(issued_on, term_months) == official


def test_a_declared_benchmark_above_the_official_one_is_refused() -> None:
    one_year: dict[str, Any] = {"issued_on": date(2018, 3, 1), "term_months": 12}
    rules.check_rate_at_benchmark(435, 435, 0, **one_year)
    rules.check_rate_at_benchmark(400, 400, 0, **one_year)  # cheaper than the benchmark: allowed
    problem = refused(codes.LOAN_RATE_ABOVE_BENCHMARK, rules.check_rate_at_benchmark, 475, 475, 0, **one_year)
    assert problem.field == "benchmark_rate_bp" and problem.extra["official_benchmark_bp"] == 435
    # Where the official rate is not held (the LPR years), the declared one is the benchmark.
    rules.check_rate_at_benchmark(490, 490, 0, issued_on=date(2020, 3, 1), term_months=12)

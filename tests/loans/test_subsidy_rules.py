"""L11–L13 (issue #18 point 3) as pure functions, each on both sides; L6's figure by hand, and against
rules.subsidy_of (what GET /loans/{id}/subsidy answers) where no misuse alert was resolved."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from services.kernel.errors import Problem
from services.kernel.identity import Principal
from services.loans import codes, rules
from services.loans import subsidy_rules as sr
from services.loans.subsidy_rules import DeclaredRate, LoanFacts, Period

Q1 = Period(date(2018, 1, 1), date(2018, 4, 1))


def code_of(excinfo: pytest.ExceptionInfo[Problem]) -> str:
    return excinfo.value.code


def test_l11_a_rate_declared_over_part_of_an_earlier_period_is_refused() -> None:
    sr.check_rate_does_not_overlap("440101", Period(date(2018, 4, 1), date(2018, 7, 1)), [Q1])  # adjacent: allowed
    with pytest.raises(Problem) as refused:
        sr.check_rate_does_not_overlap("440101", Period(date(2018, 3, 31), date(2018, 7, 1)), [Q1])
    assert code_of(refused) == codes.SUBSIDY_RATE_OVERLAP and refused.value.status == 409


def test_l11_a_claim_takes_the_rate_whose_period_covers_it_whole() -> None:
    year = DeclaredRate(Period(date(2018, 1, 1), date(2019, 1, 1)), 475, "bank", "F1")
    assert sr.rate_for("440101", Q1, [year]) is year
    with pytest.raises(Problem) as refused:
        sr.rate_for("440101", Period(date(2018, 12, 1), date(2019, 2, 1)), [year])
    assert code_of(refused) == codes.SUBSIDY_RATE_NOT_DECLARED and refused.value.status == 422


def test_l12_a_period_is_claimed_once_it_has_ended_and_for_a_year_at_most() -> None:
    sr.check_claimable_period(Q1, today=date(2018, 4, 1))  # the `to` day is not counted: claimable on it
    with pytest.raises(Problem) as early:
        sr.check_claimable_period(Q1, today=date(2018, 3, 31))
    assert code_of(early) == codes.SUBSIDY_PERIOD_NOT_OVER
    sr.check_claimable_period(Period(date(2018, 1, 1), date(2019, 1, 1)), today=date(2020, 1, 1))
    with pytest.raises(Problem) as long:
        sr.check_claimable_period(Period(date(2018, 1, 1), date(2019, 1, 3)), today=date(2020, 1, 1))
    assert code_of(long) == codes.SUBSIDY_PERIOD_TOO_LONG


def test_l12_a_loan_claimed_before_for_part_of_the_period_is_refused_naming_it() -> None:
    sr.check_not_claimed([])
    with pytest.raises(Problem) as refused:
        sr.check_not_claimed([("loan_b", "sbc_1"), ("loan_a", "sbc_1")])
    assert code_of(refused) == codes.SUBSIDY_ALREADY_CLAIMED and refused.value.status == 409
    assert refused.value.extra["loan_ids"] == ["loan_a", "loan_b"]


def test_l6_by_hand_repayment_overdue_stretch_and_half_up_rounding() -> None:
    # 1,000,000 fen from 2018-01-01, maturity 04-01, 400,000 repaid 02-01, period [01-01, 05-01) at 4.75 %:
    #   01-01..01-31 31 days × 1,000,000; 02-01..04-01 60 days × 600,000 (04-01 is not overdue); 04-02..04-30 overdue
    facts = LoanFacts(1_000_000, date(2018, 1, 1), date(2018, 4, 1), [(date(2018, 2, 1), 400_000)])
    line = sr.claim_line(facts, Period(date(2018, 1, 1), date(2018, 5, 1)), 475)
    assert (line.days, line.subsidised_days, line.overdue_days, line.misuse_days) == (120, 91, 29, 0)
    assert line.principal_fen_days == 67_000_000 and line.subsidy_fen == 8_840  # 8,840.28
    assert line.excluded == [{"reason": "overdue", "from": "2018-04-02", "to": "2018-05-01", "days": 29}]


def test_l12_days_under_misuse_are_excluded_until_the_alert_was_resolved() -> None:
    misused = LoanFacts(3_600_000, date(2018, 1, 1), date(2019, 1, 1), [], misuse=((date(2018, 1, 11), None),))
    line = sr.claim_line(misused, Period(date(2018, 1, 1), date(2018, 3, 1)), 1000)
    assert line.subsidy_fen == 10_000 and line.misuse_days == 49  # 10 days × 3,600,000 × 10 % / 360
    assert line.excluded == [{"reason": "misuse", "from": "2018-01-11", "to": "2018-03-01", "days": 49}]
    resolved = LoanFacts(3_600_000, date(2018, 1, 1), date(2019, 1, 1), [],
                         misuse=((date(2018, 1, 11), date(2018, 2, 1)),))
    line = sr.claim_line(resolved, Period(date(2018, 1, 1), date(2018, 3, 1)), 1000)
    assert (line.subsidised_days, line.misuse_days) == (10 + 28, 21)
    assert line.excluded == [{"reason": "misuse", "from": "2018-01-11", "to": "2018-02-01", "days": 21}]


def test_l12_nothing_is_excluded_before_issue_nor_after_the_last_principal_is_repaid() -> None:
    facts = LoanFacts(500_000, date(2018, 2, 1), date(2018, 3, 1), [(date(2018, 2, 11), 500_000)])
    line = sr.claim_line(facts, Q1, 475)
    assert (line.subsidised_days, line.overdue_days, line.excluded) == (10, 0, [])


def test_l12_matches_rules_subsidy_of_on_random_loans_without_a_resolved_alert() -> None:
    chance = random.Random(18)
    for _ in range(200):
        issued = date(2018, 1, 1) + timedelta(days=chance.randrange(0, 200))
        maturity = issued + timedelta(days=chance.randrange(30, 400))
        amount = chance.randrange(1_000, 5_000_000)
        repayments = [(issued + timedelta(days=chance.randrange(0, 500)), chance.randrange(0, amount // 3))
                      for _ in range(chance.randrange(0, 4))]
        misuse_from = issued + timedelta(days=chance.randrange(0, 300)) if chance.random() < 0.3 else None
        start = date(2018, 1, 1) + timedelta(days=chance.randrange(0, 400))
        period = Period(start, start + timedelta(days=chance.randrange(1, 120)))
        rate = chance.randrange(0, 1000)
        line = sr.claim_line(LoanFacts(amount, issued, maturity, repayments,
                                       misuse=((misuse_from, None),) if misuse_from else ()), period, rate)
        expected = rules.subsidy_of(amount_fen=amount, issued_on=issued, maturity_in_force=maturity,
                                    repayments=repayments, misuse_from=misuse_from, period_from=period.period_from,
                                    period_to=period.period_to, rate_bp=rate)
        assert (line.principal_fen_days, line.subsidy_fen) == (expected.principal_fen_days, expected.subsidy_fen)
        assert line.overdue_days == expected.overdue_days or misuse_from is not None
        assert sum(s["days"] for s in line.excluded) == line.overdue_days + line.misuse_days


def _principal(pid: str) -> Principal:
    return Principal(id=pid, role="finance", region_code="440101")


def test_l13_checked_then_approved_by_two_people_neither_the_submitter() -> None:
    args = dict(submitted_by="bank", claim_id="sbc_1")
    sr.check_decision(decision="checked", principal=_principal("a"), checked_by=None, decided=None, **args)
    sr.check_decision(decision="approved", principal=_principal("b"), checked_by="a", decided=None, **args)
    sr.check_decision(decision="rejected", principal=_principal("a"), checked_by=None, decided=None, **args)
    refusals = [
        (dict(decision="checked", principal=_principal("bank"), checked_by=None, decided=None),
         codes.SUBSIDY_SAME_PERSON),
        (dict(decision="approved", principal=_principal("a"), checked_by="a", decided=None), codes.SUBSIDY_SAME_PERSON),
        (dict(decision="approved", principal=_principal("b"), checked_by=None, decided=None),
         codes.SUBSIDY_NOT_CHECKED),
        (dict(decision="checked", principal=_principal("b"), checked_by="a", decided=None),
         codes.SUBSIDY_CLAIM_DECIDED),
        (dict(decision="rejected", principal=_principal("c"), checked_by="a", decided="approved"),
         codes.SUBSIDY_CLAIM_DECIDED),
    ]
    for kwargs, code in refusals:
        with pytest.raises(Problem) as refused:
            sr.check_decision(**kwargs, **args)  # type: ignore[arg-type]
        assert code_of(refused) == code, kwargs


def test_l13_the_bank_is_paid_the_total_or_each_household_its_loans() -> None:
    lines = [("H1", 100), ("H2", 0), ("H1", 50), ("H3", 7)]
    assert sr.payees("bank", "6230001", lines) == [("6230001", 157)]
    assert sr.payees("household", "6230001", lines) == [("H1", 150), ("H3", 7)]

"""The risk-compensation fund's pure rules (issue #18, L7–L10): each on both sides, at its boundary."""

from __future__ import annotations

from datetime import date

import pytest

from services.kernel.errors import Forbidden, RuleViolation
from services.loans import codes, risk_rules


def test_capacity_is_deposit_times_leverage_and_a_loan_may_reach_it_but_not_pass_it() -> None:
    risk_rules.check_capacity(used_fen=4_000_000, amount_fen=1_000_000, deposit_fen=1_000_000, leverage=5,
                              fund_id="rf")
    with pytest.raises(RuleViolation) as refused:
        risk_rules.check_capacity(used_fen=4_000_000, amount_fen=1_000_001, deposit_fen=1_000_000, leverage=5,
                                  fund_id="rf")
    assert (refused.value.code, refused.value.rule) == (codes.RISK_FUND_CAPACITY_EXCEEDED, "L7")
    assert refused.value.extra["capacity_fen"] == 5_000_000


def test_a_claim_needs_more_days_overdue_than_the_threshold() -> None:
    days = risk_rules.days_overdue(date(2019, 3, 1), date(2019, 5, 31))
    assert days == 91
    risk_rules.check_overdue_beyond(days, 90)
    with pytest.raises(RuleViolation) as refused:
        risk_rules.check_overdue_beyond(90, 90)
    assert refused.value.code == codes.CLAIM_NOT_OVERDUE
    with pytest.raises(RuleViolation):
        risk_rules.check_overdue_beyond(risk_rules.days_overdue(date(2019, 3, 1), date(2019, 2, 1)), 90)


def test_misuse_alerts_refuse_and_none_allows() -> None:
    risk_rules.check_not_misused([])
    with pytest.raises(RuleViolation) as refused:
        risk_rules.check_not_misused([codes.ALERT_LOAN_NON_PRODUCTIVE_USE, codes.ALERT_LOAN_NON_PRODUCTIVE_USE])
    assert refused.value.extra["alert_types"] == [codes.ALERT_LOAN_NON_PRODUCTIVE_USE]


def test_a_claim_reaches_what_is_outstanding_less_what_is_claimed_already() -> None:
    risk_rules.check_claim_within(principal_lost_fen=600, outstanding_fen=1000, claimed_fen=400)
    with pytest.raises(RuleViolation) as refused:
        risk_rules.check_claim_within(principal_lost_fen=601, outstanding_fen=1000, claimed_fen=400)
    assert refused.value.extra["claimable_fen"] == 600


def test_the_recorder_does_not_decide() -> None:
    risk_rules.check_not_self_decided("prn_a", "prn_b")
    with pytest.raises(Forbidden) as refused:
        risk_rules.check_not_self_decided("prn_a", "prn_a")
    assert refused.value.code == codes.CLAIM_SELF_APPROVAL


def test_returns_add_up_to_the_share_of_the_total_never_more() -> None:
    returned, before = 0, 0
    for amount in (1, 1, 1, 333, 664):
        returned += risk_rules.returned_for(recovered_before_fen=before, amount_fen=amount, lost_fen=1000,
                                            share_bp=7000)
        before += amount
    assert returned == risk_rules.share_of(1000, 7000) == 700
    with pytest.raises(RuleViolation) as refused:
        risk_rules.returned_for(recovered_before_fen=1000, amount_fen=1, lost_fen=1000, share_bp=7000)
    assert refused.value.code == codes.RECOVERY_OVER_LOST


def test_depleted_beyond_the_declared_share_of_the_deposit_net_of_returns() -> None:
    assert not risk_rules.depleted(paid_fen=500, returned_fen=0, deposit_fen=1000, depleted_share_bp=5000)
    assert risk_rules.depleted(paid_fen=501, returned_fen=0, deposit_fen=1000, depleted_share_bp=5000)
    assert not risk_rules.depleted(paid_fen=600, returned_fen=100, deposit_fen=1000, depleted_share_bp=5000)


def test_ids_are_those_of_what_makes_the_record_one() -> None:
    assert risk_rules.fund_id_of("441702", "县农商银行") == risk_rules.fund_id_of("441702", "县农商银行")
    assert risk_rules.fund_id_of("441702", "县农商银行") != risk_rules.fund_id_of("441702", "县邮储银行")
    assert len(risk_rules.recovery_id_of("clm_" + "x" * 26, 999)) <= 40

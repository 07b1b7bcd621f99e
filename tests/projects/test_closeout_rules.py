"""The close-out rules (P10, P11, P12) as pure functions, on both sides of each boundary."""

from __future__ import annotations

import pytest

from services.kernel.errors import Problem
from services.projects import closeout_rules, codes

TARGETS = [{"indicator": "增收", "target": "≥3000元/户"}, {"indicator": "就业", "target": "20人"}]


def _code(call: object, *args: object, **kwargs: object) -> str | None:
    try:
        call(*args, **kwargs)  # type: ignore[operator]
    except Problem as refusal:
        return refusal.code
    return None


def test_p10_every_target_and_only_targets() -> None:
    results = closeout_rules.target_results(TARGETS, {"就业": ("12人", False), "增收": ("3100元", True)})
    assert [(r.position, r.indicator, r.target, r.actual, r.met) for r in results] == [
        (0, "增收", "≥3000元/户", "3100元", True), (1, "就业", "20人", "12人", False)]
    assert [r.indicator for r in closeout_rules.unmet(results)] == ["就业"]
    assert _code(closeout_rules.target_results, TARGETS, {"增收": ("3100元", True)}) == codes.TARGET_RESULT_MISSING
    extra = {"增收": ("1", True), "就业": ("1", True), "产值": ("1", True)}
    assert _code(closeout_rules.target_results, TARGETS, extra) == codes.TARGET_RESULT_UNKNOWN


@pytest.mark.parametrize(("value", "before", "last", "refused"), [
    (105_000, 0, False, False),  # paid + 5 % exactly
    (105_001, 0, False, True),  # above it
    (50_000, 0, False, False),  # below, but more assets to come
    (45_000, 50_000, True, False),  # the last: 95,000 is paid − 5 % exactly
    (44_999, 50_000, True, True),  # below it
    (1, 0, False, True),  # nothing paid: nothing to hand over
])
def test_p11_handover_value_against_paid(value: int, before: int, last: bool, refused: bool) -> None:
    paid = 0 if value == 1 else 100_000
    code = _code(closeout_rules.check_handover_value, value_fen=value, handed_before_fen=before, paid_fen=paid,
                 last=last)
    assert (code == codes.HANDOVER_VALUE_MISMATCH) == refused and (code is None) != refused


def test_p11_household_assets_belong_to_households() -> None:
    assert _code(closeout_rules.check_owner, "household", "village_collective") == codes.HANDOVER_OWNER
    assert _code(closeout_rules.check_owner, "household", "households") is None
    assert _code(closeout_rules.check_owner, "public_benefit", "village_collective") is None


def test_p12_a_dividend_id_is_the_assets_and_its_rank() -> None:
    first = closeout_rules.dividend_id("ast_1", 0)
    assert first == closeout_rules.dividend_id("ast_1", 0) and len(first) <= 40
    assert first != closeout_rules.dividend_id("ast_1", 1) and first != closeout_rules.dividend_id("ast_2", 0)

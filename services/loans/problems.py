"""The loans service's error builders (the codes are in codes.py; the rules' own refusals are raised by the rule
functions in rules.py, each next to the rule it enforces)."""

from __future__ import annotations

from services.kernel.errors import Conflict, NotFound, RuleViolation, ValidationProblem
from services.loans import codes


def loan_not_found(loan_id: str) -> NotFound:
    return NotFound(f"没有这笔贷款 / no loan {loan_id}")


def extension_exists(loan_id: str) -> Conflict:
    return Conflict(f"L5: 该贷款已展期一次 / loan {loan_id} has already been extended once",
                    code=codes.EXTENSION_EXISTS, rule="L5")


def loan_repaid(loan_id: str) -> Conflict:
    return Conflict(f"贷款已还清 / loan {loan_id} is repaid: nothing to extend", code=codes.LOAN_REPAID)


def usage_before_issue() -> RuleViolation:
    return RuleViolation("用途报告日期早于放款日期 / a usage report cannot precede the issue date",
                         code=codes.USAGE_BEFORE_ISSUE, field="reported_on")


def period_reversed() -> ValidationProblem:
    return ValidationProblem("to 不能早于 from / `to` must not precede `from`", field="to")

"""The registry's error builders: every problem the service answers with is built here (the codes are in codes.py).
A rejected line of an import is not a problem but a (code, detail) pair in the import's report, found by the rules
of rules.py on the hot path."""

from __future__ import annotations

from datetime import date

from services.kernel.errors import Conflict, Forbidden, NotFound, Problem, RuleViolation, ValidationProblem
from services.registry import codes


class UnsupportedMediaType(Problem):
    status = 415
    code = codes.UNSUPPORTED_MEDIA_TYPE
    title = "Unsupported media type"


def household_not_found(household_id: str) -> NotFound:
    return NotFound(f"没有户 {household_id} / no household {household_id} in the roster")


def import_progress_not_found(key: str) -> NotFound:
    return NotFound(f"没有以此幂等键进行的导入 / you sent no import with the Idempotency-Key {key[:80]!r}")


def not_registered_on(household_id: str, on: date) -> NotFound:
    return NotFound(f"户 {household_id} 在 {on} 未登记 / household {household_id} was not registered on {on}")


def not_a_cadre_household(household_id: str) -> RuleViolation:
    return RuleViolation(
        f"户 {household_id} 无村干部，无需例外 (R1) / household {household_id} has no village cadre on the roster: "
        "an exception for a village cadre's household is not needed",
        code=codes.NOT_A_CADRE_HOUSEHOLD, rule=codes.R1, field="household_id",
    )


def internal_only() -> Forbidden:
    return Forbidden("仅供内部服务调用 / internal API: for FundTrack services only")


def may_not_import(role: str) -> Forbidden:
    return Forbidden(f"角色 {role} 不能导入 / role {role} may not import households")


def may_not_record_exceptions(role: str) -> Forbidden:
    return Forbidden(f"角色 {role} 不能登记村干部例外 / role {role} may not record a village cadre exception (R1)")


def not_csv(media_type: str) -> UnsupportedMediaType:
    return UnsupportedMediaType(
        f"应为 text/csv (UTF-8) / the body must be text/csv (UTF-8), not {media_type or 'unspecified'}",
        field="content-type",
    )


def bad_effective_on(value: str) -> ValidationProblem:
    return ValidationProblem(
        f"不是日期 / effective_on must be a date YYYY-MM-DD, got {value[:40]!r}",
        code=codes.INVALID_EFFECTIVE_DATE, field="effective_on",
    )


def effective_date_in_future(on: date) -> ValidationProblem:
    return ValidationProblem(f"生效日期 {on} 晚于今天 / effective_on {on} is in the future",
                             code=codes.INVALID_EFFECTIVE_DATE, field="effective_on")


def effective_date_before_roster(on: date, first: date) -> ValidationProblem:
    """建档立卡 began on `first`: no roster stands for a date before it."""
    return ValidationProblem(f"生效日期 {on} 早于建档立卡 / effective_on {on} is before {first}",
                             code=codes.INVALID_EFFECTIVE_DATE, field="effective_on")


def invalid_header(detail: str) -> ValidationProblem:
    """The file's first line is not API.md's header: the whole file is refused (`detail` says what was found)."""
    return ValidationProblem(detail, code=codes.INVALID_HEADER, field="body")


def not_a_county(value: str) -> ValidationProblem:
    return ValidationProblem(
        f"不是县级代码 / county must be a six-digit county code (not ending in 00), got {value[:40]!r}",
        field="county",
    )


def import_conflict() -> Conflict:
    return Conflict(
        "另一导入同时登记了同一户 / another import registered one of these households at the same moment; nothing "
        "was imported: send the file again",
        code=codes.IMPORT_CONFLICT,
    )

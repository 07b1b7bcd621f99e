"""The checks of one roster line (建档立卡 import), as pure functions: each returns None when the value is right,
or the (code, detail) that rejects the line. DOMAIN.md "Codes and identifiers" defines the formats; the statuses
and the cadre flag are what L1 (loan eligibility), P3 (beneficiaries) and F10 (who may not receive) read."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from operator import mul
from typing import NamedTuple

from services.kernel.regions import enclosing_prefixes, in_county, is_county, under
from services.kernel.types import ID_CHECK, ID_WEIGHTS, birth_date_of, check_id_number, is_ascii_digits
from services.registry import codes, problems

HEADER = (
    "household_id",
    "head_id_number",
    "head_name",
    "county_code",
    "village_code",
    "status",
    "members",
    "village_cadre",
    "card_account",
)
MAX_LENGTHS = {"household_id": 64, "head_name": 100, "card_account": 64}
MAX_MEMBERS = 99
HOUSEHOLD_ID_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_.")
STATUSES = frozenset(codes.STATUSES)
ELIGIBLE_STATUSES = frozenset(codes.ELIGIBLE_STATUSES)
CADRE_FLAGS = {"0": False, "1": True}
MEMBER_COUNTS = {str(n): n for n in range(1, MAX_MEMBERS + 1)}
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# sum(weight × ASCII code) − sum(weight × 48) = the GB 11643 weighted sum of the digits.
ASCII_ZERO_OFFSET = 48 * sum(ID_WEIGHTS)

Problem = tuple[str, str]
MALFORMED = (codes.MALFORMED_LINE, "无法读取 / the line cannot be read")


Row = tuple[int, str, str, str, str, str, str, int, bool, str]


class HouseholdLine(NamedTuple):
    """A validated line, in the column order of the staging table (the rows themselves are plain `Row` tuples)."""

    line: int
    household_id: str
    head_id_number: str
    head_name: str
    county_code: str
    village_code: str
    status: str
    members: int
    village_cadre: bool
    card_account: str


FIRST_EFFECTIVE_DATE = date(2014, 1, 1)  # 建档立卡 began in 2014


def effective_date_problem(on: date, *, today: date) -> None:
    """The date a roster import stands for: not in the future, not before 建档立卡 began. (A line whose household
    already has later history is refused by the import itself: repository.newer_history.)"""
    if on > today:
        raise problems.effective_date_in_future(on)
    if on < FIRST_EFFECTIVE_DATE:
        raise problems.effective_date_before_roster(on, FIRST_EFFECTIVE_DATE)


def import_lock_scopes(prefix: str) -> tuple[tuple[str, ...], str]:
    """S12: the scopes an import of region prefix `prefix` locks: shared, the country, province and city above it;
    exclusive, its own (a village's import locks its county). Taken in this order, from the country down, by every
    import, so two never wait for each other in a cycle. '430523' → (('', '43', '4305'), '430523');
    '43' → (('',), '43'); '' → ((), ''). A prefix between levels locks the level above it (more, never less)."""
    levels = enclosing_prefixes(prefix)
    return levels[:-1], levels[-1]


def header_problem(fields: list[str]) -> str | None:
    """The file's first line must be exactly the API.md header (a wrong one refuses the whole file)."""
    if tuple(fields) == HEADER:
        return None
    return (
        "表头错误 / the first line must be the header "
        f"`{','.join(HEADER)}`; got `{','.join(fields)[:200]}`"
    )


def field_problem(fields: list[str]) -> Problem | None:
    """Nine fields, none empty, none longer than its column, none holding a control character (PostgreSQL text
    cannot hold NUL, and no name or account number has a tab or a bell in it)."""
    if len(fields) != len(HEADER):
        return codes.WRONG_FIELD_COUNT, f"应有 {len(HEADER)} 个字段 / expected {len(HEADER)} fields, got {len(fields)}"
    for name, value in zip(HEADER, fields, strict=True):
        if not value:
            return codes.MISSING_FIELD, f"{name} 为空 / {name} is empty"
    for name, limit in MAX_LENGTHS.items():
        if len(fields[HEADER.index(name)]) > limit:
            return codes.FIELD_TOO_LONG, f"{name} 超过 {limit} 个字符 / {name} is longer than {limit} characters"
    for name, value in zip(HEADER, fields, strict=True):
        if CONTROL.search(value):
            detail = f"{name} 含控制字符 / {name} holds a control character (U+0000–U+001F, U+007F)"
            return codes.CONTROL_CHARACTER, detail
    return None


def household_id_problem(value: str) -> Problem | None:
    """A household id is letters, digits, `-`, `_` or `.` (it travels in URLs)."""
    if HOUSEHOLD_ID_CHARS.issuperset(value):
        return None
    return codes.INVALID_HOUSEHOLD_ID, "household_id 只能含字母、数字、-_. / household_id: letters, digits, - _ . only"


def id_number_problem(value: str, today: date) -> Problem | None:
    """GB 11643 check digit, and a real birth date that is not in the future."""
    try:
        checked = check_id_number(value)
    except ValueError as exc:
        return codes.INVALID_ID_NUMBER, f"head_id_number: {exc}"
    born = birth_date_of(checked)
    if born > today or born.year < 1900:
        return codes.INVALID_ID_NUMBER, f"head_id_number: 出生日期 {born} 不可能 / birth date {born} is impossible"
    return None


def region_problem(county_code: str, village_code: str) -> Problem | None:
    """A county is six digits not ending in 00; its villages are 12 digits starting with the county's code."""
    if not (county_code.isascii() and county_code.isdigit() and is_county(county_code)):
        return codes.INVALID_REGION, f"county_code {county_code[:20]!r} 不是县级代码 / is not a county code"
    if len(village_code) != 12 or not village_code.isascii() or not village_code.isdigit():
        return codes.INVALID_REGION, f"village_code {village_code[:20]!r} 应为 12 位数字 / must be 12 digits"
    if not in_county(village_code, county_code):
        return codes.INVALID_REGION, (
            f"village_code {village_code} 不属于县 {county_code} / does not start with its county's code"
        )
    return None


def ineligibility(status: str | None, village_cadre: bool, cadre_excepted: bool = False) -> list[str]:
    """L1, P3, F10: the one definition of a household that may receive poverty support (loans, benefits, payments):
    on the roster, poor, exited but still covered (脱贫不脱政策) or returned (返贫), and no sitting village cadre in
    the household (seed 002 §二.1: "原则上", in principle) unless the county approved an exception in force on the
    date (R1, `cadre_excepted`). `status` None: not on the roster on the date asked. Every reason, in this order;
    empty when eligible."""
    if status is None:
        return [codes.NOT_REGISTERED]
    reasons = []
    if status not in ELIGIBLE_STATUSES:
        reasons.append(codes.NOT_POOR)
    if village_cadre and not cadre_excepted:
        reasons.append(codes.VILLAGE_CADRE)
    return reasons


def check_cadre_exception_needed(*, village_cadre: bool, household_id: str) -> None:
    """R1: an exception is for a household with a sitting village cadre on the roster; any other needs none."""
    if not village_cadre:
        raise problems.not_a_cadre_household(household_id)


def status_problem(value: str) -> Problem | None:
    if value in STATUSES:
        return None
    return codes.INVALID_STATUS, f"status {value[:20]!r} 应为 / must be one of {', '.join(codes.STATUSES)}"


def members_problem(value: str) -> Problem | None:
    """The number of household members: a positive whole number."""
    if value.isascii() and value.isdigit() and 0 < int(value) <= MAX_MEMBERS:
        return None
    return codes.INVALID_MEMBERS, f"members {value[:20]!r} 应为 1–{MAX_MEMBERS} 的整数 / must be 1..{MAX_MEMBERS}"


def cadre_flag_problem(value: str) -> Problem | None:
    if value in CADRE_FLAGS:
        return None
    return codes.INVALID_CADRE_FLAG, f"village_cadre {value[:20]!r} 应为 0 或 1 / must be 0 or 1"


def card_account_problem(value: str) -> Problem | None:
    """A 一卡通 account number is ASCII digits (S3): `６２１７…` was stored as sent, shown masked like a real one, and
    matched no payment written with ordinary digits (F6 compares them)."""
    if is_ascii_digits(value):
        return None
    return codes.INVALID_CARD_ACCOUNT, "card_account 只能含数字 0-9 / card_account: digits 0-9 only"


def duplicate_problem(household_id: str, first_line: int) -> Problem:
    """A household twice in one file: the first line is kept, the later ones refused (the wording of
    repository.earlier_duplicates, which finds those of earlier chunks)."""
    return codes.DUPLICATE_IN_FILE, (
        f"户 {household_id} 已在第 {first_line} 行 / household {household_id} already on line {first_line}"
    )


def jurisdiction_problem(village_code: str, prefix: str) -> Problem | None:
    """A principal imports only households of the regions its jurisdiction covers (DOMAIN.md, who uses the system):
    the village code starts with the county's, so one prefix test serves province, city, county and village."""
    if under(village_code, prefix):
        return None
    return codes.LINE_NOT_IN_JURISDICTION, (
        f"村 {village_code} 不在管辖范围内 / village {village_code} is outside your jurisdiction"
    )


@lru_cache(maxsize=100_000)
def birth_date_ok(yyyymmdd: str, today: date) -> bool:
    try:
        born = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    except ValueError:
        return False
    return born.year >= 1900 and born <= today


@lru_cache(maxsize=10_000)
def county_ok(county_code: str) -> bool:
    return region_problem(county_code, county_code + "000000") is None


def id_number_ok(value: str, today: date) -> bool:
    """The same answer as `id_number_problem(...) is None`, in a few C-level calls (a million lines per import)."""
    if len(value) != 18 or not value.isascii() or not value[:17].isdigit():
        return False
    check = ID_CHECK[(sum(map(mul, value[:17].encode(), ID_WEIGHTS)) - ASCII_ZERO_OFFSET) % 11]
    return check == value[17].upper() and birth_date_ok(value[6:14], today)


def accepted(line: int, fields: list[str], prefix: str, today: date) -> Row | None:
    """The staging row when every check passes (the common case, checked cheaply); None when one fails."""
    if len(fields) != 9:
        return None
    household_id, id_number, name, county, village, status, members, cadre, card = fields
    if (
        name and card and not CONTROL.search(name) and card.isascii() and card.isdigit()
        and len(name) <= 100 and len(card) <= 64 and len(household_id) <= 64 and household_id
        and HOUSEHOLD_ID_CHARS.issuperset(household_id)
        and id_number_ok(id_number, today)
        and county_ok(county)
        and len(village) == 12 and village.startswith(county) and village.isascii() and village.isdigit()
        and village.startswith(prefix)
        and status in STATUSES and members in MEMBER_COUNTS and cadre in CADRE_FLAGS
    ):
        return line, household_id, id_number.upper(), name, county, village, status, MEMBER_COUNTS[members], \
            CADRE_FLAGS[cadre], card
    return None


def check_line(line: int, fields: list[str], *, prefix: str, today: date) -> Row | Problem:
    """Every check of one line, in column order; the first failing one rejects it."""
    row = accepted(line, fields, prefix, today)
    if row is not None:
        return row
    return problem_of(fields, prefix=prefix, today=today) or MALFORMED


def problem_of(fields: list[str], *, prefix: str, today: date) -> Problem | None:
    """Why a line is refused: the first failing check, in column order, with its code and detail."""
    return (
        field_problem(fields)
        or household_id_problem(fields[0])
        or id_number_problem(fields[1], today)
        or region_problem(fields[3], fields[4])
        or jurisdiction_problem(fields[4], prefix)
        or status_problem(fields[5])
        or members_problem(fields[6])
        or cadre_flag_problem(fields[7])
        or card_account_problem(fields[8])
    )


def responsible_org(*, importing_org: str | None) -> str | None:
    """O13 (issue #16): the organisation that imports a roster file answers for the import (the 扶贫办 whose key sent
    it)."""
    return importing_org
